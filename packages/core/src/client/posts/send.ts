/**
 * Sending into a feed group: sealed, stored (with the feed change it makes on this device, in the
 * same write) and handed to the outbox, like any group message (client/outbox.ts).
 */
import type { Body } from "../../content/index.js";
import { ParleyError } from "../../errors.js";
import type { Batch } from "../../store/batch.js";
import type { GroupConversationRecord } from "../../store/records.js";
import { type ClientContext, orderKey } from "../context.js";
import { requireConversation } from "../lookup.js";
import { sealIntoOutbox } from "../outbox.js";
import { deliverOutbox } from "../outbox-delivery.js";

export async function feedConversation(ctx: ClientContext, id: string): Promise<GroupConversationRecord> {
  const conversation = await requireConversation(ctx, id);
  if (conversation.kind !== "group" || !conversation.feed)
    throw new ParleyError("unknown_conversation", { id });
  return conversation;
}

/**
 * Seals `body` (content id `id`) into feed group `conversationId`, with `also` (run under the
 * profile lock, after the checks) adding this device's own change to the same write; then sends it.
 * `postId`: the post it is about, named in the error when we are no longer in its audience.
 */
export async function sendToFeed(
  ctx: ClientContext,
  conversationId: string,
  body: Body,
  id: string,
  postId: string,
  also: (batch: Batch) => Promise<void> | void,
): Promise<void> {
  await ctx.lock.run(async () => {
    const conversation = await feedConversation(ctx, conversationId);
    const sentAt = ctx.sealingTime();
    if (conversation.status !== "active") throw new ParleyError("not_in_audience", { id: postId });
    const extra = ctx.repo.batch();
    await also(extra);
    await sealIntoOutbox(ctx, conversation, body, id, sentAt, orderKey(ctx, id, sentAt), (batch) => {
      batch.writes.push(...extra.writes);
      batch.committed.push(...extra.committed);
    });
  });
  const { outcomes } = await deliverOutbox(ctx, { conversationId, now: true });
  const outcome = outcomes.get(id);
  if (outcome?.status === "failed") throw outcome.error;
}
