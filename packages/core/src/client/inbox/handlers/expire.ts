/** `expire`: the conversation's disappearing-messages timer changed (client/expire/timer.ts). */
import { decodeGroupMetadata, isAdmin } from "../../../messaging/group-metadata.js";
import { timerEvent, withTimer } from "../../expire/timer.js";
import { reject } from "../rejection.js";
import { type ContentHandler, nothing } from "../types.js";

export const expire: ContentHandler<"expire"> = {
  async direct({ ctx, batch, conversation, contact, content, body }) {
    const next = withTimer(conversation, body.seconds, content.sentAt);
    if (!next) return nothing();
    ctx.repo.putConversation(batch, next);
    return {
      events: [await timerEvent(ctx, conversation, body.seconds, contact.identityKey)],
      followups: [],
    };
  },
  async group({ ctx, batch, conversation, state, sender, content, body }) {
    if (!isAdmin(decodeGroupMetadata(ctx.engine.metadata(state)), sender))
      reject({ reason: "expire_not_admin", conversationId: conversation.id });
    const next = withTimer(conversation, body.seconds, content.sentAt);
    if (!next) return nothing();
    ctx.repo.putConversation(batch, next);
    return { events: [await timerEvent(ctx, conversation, body.seconds, sender)], followups: [] };
  },
};
