/** `group-queue`: an admin moved the group to a new queue; the old one is still read for stragglers. */
import { decodeGroupMetadata, isAdmin } from "../../../messaging/group-metadata.js";
import { moveGroupQueue } from "../../groups/queue.js";
import { reject } from "../rejection.js";
import type { ContentHandler } from "../types.js";

export const groupQueue: ContentHandler<"group-queue"> = {
  async group({ ctx, batch, conversation, state, sender, body }) {
    if (!isAdmin(decodeGroupMetadata(ctx.engine.metadata(state)), sender)) {
      reject({ reason: "queue_move_not_admin", conversationId: conversation.id });
    }
    ctx.repo.putConversation(batch, moveGroupQueue(conversation, body.queue));
    ctx.repo.putRoute(batch, body.queue.queueId, { kind: "conversation", conversationId: conversation.id });
    return {
      events: [{ type: "group", conversationId: conversation.id, name: conversation.name, change: "moved" }],
      followups: [],
    };
  },
};
