/**
 * `file`: into history once, like text, with the attachment's record; nothing is fetched here (the
 * user chooses to: `getFile`). In a 1:1 conversation a receipt goes back.
 */
import { messageView } from "../../lookup.js";
import { storeReceived } from "../history.js";
import { type ContentHandler, nothing } from "../types.js";

export const file: ContentHandler<"file"> = {
  async direct({ ctx, batch, conversation, contact, content, body }) {
    const { type: _type, ...attachment } = body;
    const record = await storeReceived(
      ctx,
      batch,
      conversation,
      content.id,
      content.sentAt,
      body.caption ?? "",
      contact.identityKey,
      attachment,
    );
    if (!record) return nothing();
    return {
      events: [{ type: "message", message: await messageView(ctx, record, conversation) }],
      followups: [{ kind: "receipt", conversationId: conversation.id, ids: [content.id] }],
    };
  },
  async group({ ctx, batch, conversation, sender, content, body }) {
    const { type: _type, ...attachment } = body;
    const record = await storeReceived(
      ctx,
      batch,
      conversation,
      content.id,
      content.sentAt,
      body.caption ?? "",
      sender,
      attachment,
    );
    if (!record) return nothing();
    return {
      events: [{ type: "message", message: await messageView(ctx, record, conversation) }],
      followups: [],
    };
  },
};
