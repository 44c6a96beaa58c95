/** `reply-to`: the contact's receive queue was renewed (see sync.ts renewDirectQueue): answer there. */
import { type ContentHandler, nothing } from "../types.js";

export const replyTo: ContentHandler<"reply-to"> = {
  async direct({ ctx, batch, conversation, body }) {
    ctx.repo.putConversation(batch, { ...conversation, sendTo: body.replyTo });
    return nothing();
  },
};
