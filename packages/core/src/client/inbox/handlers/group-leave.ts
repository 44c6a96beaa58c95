/** `group-leave`: the sender leaves; the designated member (lowest leaf) removes them. */
import { requireProfile } from "../../context.js";
import { isDesignatedRemover } from "../../groups/members.js";
import { type ContentHandler, nothing } from "../types.js";

export const groupLeave: ContentHandler<"group-leave"> = {
  async group({ ctx, conversation, state, sender }) {
    const profile = await requireProfile(ctx);
    if (!isDesignatedRemover(ctx, state, profile, sender)) return nothing();
    return {
      events: [],
      followups: [{ kind: "remove-leaver", conversationId: conversation.id, identityKey: sender }],
    };
  },
};
