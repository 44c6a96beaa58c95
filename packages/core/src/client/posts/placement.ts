/**
 * Which content belongs in a feed group (docs/04-posts.md): the post kinds, and the group plumbing
 * (a member's name, leaving, the queue moving). Chat kinds are dropped there, and post kinds
 * anywhere else, so nothing of a feed lands in a chat's history or the other way round.
 */
import type { BodyType } from "../../content/index.js";
import type { GroupConversationRecord } from "../../store/records.js";
import { reject } from "../inbox/rejection.js";

const POST_KINDS: ReadonlySet<BodyType> = new Set<BodyType>([
  "post",
  "post-comment",
  "post-like",
  "post-delete",
]);
const PLUMBING: ReadonlySet<BodyType> = new Set<BodyType>(["profile", "group-leave", "group-queue"]);

export function requireFeedPlacement(conversation: GroupConversationRecord, type: BodyType): void {
  const fits = conversation.feed ? POST_KINDS.has(type) || PLUMBING.has(type) : !POST_KINDS.has(type);
  if (!fits) reject({ reason: "not_a_feed", conversationId: conversation.id });
}
