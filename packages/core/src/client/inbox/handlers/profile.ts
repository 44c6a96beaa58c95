/** `profile`: the name a group member gives themselves in this group (kept in an encrypted value). */
import { type ContentHandler, nothing } from "../types.js";

export const profile: ContentHandler<"profile"> = {
  async group({ ctx, batch, conversation, sender, body }) {
    await ctx.repo.putMemberName(batch, conversation.id, sender, body.name);
    return nothing();
  },
};
