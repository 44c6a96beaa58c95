/**
 * `text`: into history once (a reply with the id of the message it answers; in a group, with its
 * mentions); in a 1:1 conversation, a receipt goes back.
 */
import { messageView } from "../../lookup.js";
import { storeReceived } from "../history.js";
import { type ContentHandler, nothing } from "../types.js";

export const text: ContentHandler<"text"> = {
  async direct({ ctx, batch, conversation, contact, content, body }) {
    const record = await storeReceived(
      ctx,
      batch,
      conversation,
      content.id,
      content.sentAt,
      body.text,
      contact.identityKey,
      undefined,
      { quote: body.quote?.id },
    );
    if (!record) return nothing();
    return {
      events: [{ type: "message", message: await messageView(ctx, record, conversation) }],
      followups: [{ kind: "receipt", conversationId: conversation.id, ids: [content.id] }],
    };
  },
  async group({ ctx, batch, conversation, sender, content, body }) {
    const record = await storeReceived(
      ctx,
      batch,
      conversation,
      content.id,
      content.sentAt,
      body.text,
      sender,
      undefined,
      { quote: body.quote?.id, mentions: body.mentions },
    );
    if (!record) return nothing();
    return {
      events: [{ type: "message", message: await messageView(ctx, record, conversation) }],
      followups: [],
    };
  },
};
