/**
 * Our own group messages, read back from the group's queue (commit-order.ts): where the queue put
 * them decides. Our commit, first of its epoch: applied now. Our commit after another one of the
 * same epoch: lost, to be redone. Our application message still of the reader's epoch and on the
 * current queue: it counts (and a queue move of ours takes effect for us too). Stale: every member
 * dropped it, so it is sealed again in the current epoch — same content id, same time — and sent.
 */
import { toBase64Url as b64r } from "../../encoding/base64url.js";
import { toHex } from "../../encoding/bytes.js";
import { decodeGroupMetadata } from "../../messaging/group-metadata.js";
import type { Batch } from "../../store/batch.js";
import {
  deleteGroupSent,
  type GroupSentRecord,
  groupSent,
  groupSentsWithDigest,
  type PendingCommitRecord,
  pendingCommit,
  putGroupSent,
  putPendingCommit,
} from "../../store/group-order.js";
import type { GroupConversationRecord } from "../../store/records.js";
import type { ClientContext } from "../context.js";
import { ownDirectEcho } from "../devices/direct-order.js";
import type { ClientEvent } from "../events.js";
import { isStale } from "../inbox/stale.js";
import { nothing, type Processed } from "../inbox/types.js";
import { historyIdOf } from "../lookup.js";
import { encryptContent, loadStaged, loadState, saveState } from "../mls-state.js";
import { moveGroupQueue } from "./queue.js";

/**
 * How often, in this process, a commit of ours lost its epoch and a message of ours was stale:
 * figures for the soak test and the chaos bench, nothing decides on them.
 */
export const commitOrderStats = { lost: 0, resealed: 0 };

export async function ownGroupEcho(
  ctx: ClientContext,
  batch: Batch,
  conversationId: string,
  queueId: string,
  msgId: string,
  digest: string,
): Promise<Processed> {
  const conversation = await ctx.repo.conversation(conversationId);
  // Our commit to a 1:1 chat our devices share, the same way (devices/direct-order.ts).
  if (conversation?.kind === "direct") return ownDirectEcho(ctx, batch, conversation, msgId, digest);
  if (conversation?.kind !== "group" || conversation.status !== "active") return nothing();
  const pending = await pendingCommit(ctx.repo, conversationId);
  if (pending?.digest === digest) return commitEcho(ctx, batch, conversation, pending, queueId, msgId);
  const sent = await groupSent(ctx.repo, conversationId, digest);
  if (sent) return sentEcho(ctx, batch, conversation, sent, queueId, digest);
  return nothing(); // a second copy of something already settled
}

async function commitEcho(
  ctx: ClientContext,
  batch: Batch,
  conversation: GroupConversationRecord,
  pending: PendingCommitRecord,
  queueId: string,
  msgId: string,
): Promise<Processed> {
  if (pending.status !== "sent") return nothing();
  const followups: Processed["followups"] = [{ kind: "group-order", conversationId: conversation.id }];
  const state = await loadState(ctx, conversation.groupId);
  if (isStale(conversation, state, BigInt(pending.baseEpoch), queueId)) {
    putPendingCommit(batch, conversation.id, { ...pending, status: "lost" });
    commitOrderStats.lost++;
    return { events: [], followups };
  }
  const staged = await loadStaged(ctx, conversation.groupId, pending.staged);
  saveState(ctx, batch, conversation.groupId, staged);
  const meta = decodeGroupMetadata(ctx.engine.metadata(staged));
  if (meta) ctx.repo.putConversation(batch, { ...conversation, name: meta.name, admins: meta.admins });
  putPendingCommit(batch, conversation.id, {
    ...pending,
    status: "won",
    cursor: msgId,
    cursorQueue: conversation.receive,
  });
  return { events: [], followups, saved: { groupId: conversation.groupId, epoch: staged.epoch } };
}

async function sentEcho(
  ctx: ClientContext,
  batch: Batch,
  conversation: GroupConversationRecord,
  sent: GroupSentRecord,
  queueId: string,
  digest: string,
): Promise<Processed> {
  deleteGroupSent(batch, conversation.id, digest);
  const state = await loadState(ctx, conversation.groupId);
  if (!isStale(conversation, state, BigInt(sent.epoch), queueId)) {
    if (sent.body.type !== "group-queue") return nothing();
    // Our queue move counts: we go too (the others went when they read it).
    ctx.repo.putConversation(batch, moveGroupQueue(conversation, sent.body.queue));
    const event: ClientEvent = {
      type: "group",
      conversationId: conversation.id,
      name: conversation.name,
      change: "moved",
    };
    return { events: [event], followups: [] };
  }
  // A move announced too late: made again, to a fresh queue (the first may be known to someone a
  // later commit removed).
  if (sent.body.type === "group-queue") {
    return { events: [], followups: [{ kind: "group-order", conversationId: conversation.id, move: true }] };
  }
  commitOrderStats.resealed++;
  const sealed = await encryptContent(ctx, state, sent.body, sent.id, sent.sentAt);
  saveState(ctx, batch, conversation.groupId, sealed.state);
  const resent = toHex(await ctx.crypto.sha256(sealed.message));
  ctx.repo.markPayloadSeen(batch, conversation.id, resent);
  putGroupSent(batch, conversation.id, resent, { ...sent, epoch: sealed.state.epoch.toString() });
  ctx.repo.putOutboxEntry(batch, sent.order, {
    messageId: sent.id,
    conversationId: conversation.id,
    payload: b64r(sealed.message),
    attempts: 0,
    nextAttemptAt: 0,
  });
  return {
    events: [],
    followups: [{ kind: "group-order", conversationId: conversation.id }],
    saved: { groupId: conversation.groupId, epoch: sealed.state.epoch },
  };
}

/**
 * We are out of the group (our removal read from its queue): what we sent that has not echoed yet
 * lies after our removal in the queue, or never reached it — every member drops it as stale, and
 * with the group's keys gone we cannot seal it again. Each such message is marked "failed" and said
 * so (a `send_failed` warning), rather than left showing "sent" for something nobody will read.
 */
export async function unechoedLost(
  ctx: ClientContext,
  batch: Batch,
  conversation: GroupConversationRecord,
): Promise<ClientEvent[]> {
  const events: ClientEvent[] = [];
  for (const [digest, sent] of await groupSentsWithDigest(ctx.repo, conversation.id)) {
    deleteGroupSent(batch, conversation.id, digest);
    ctx.repo.deleteOutboxEntry(batch, sent.order);
    const message = await ctx.repo.message(historyIdOf(conversation), sent.id);
    if (!message?.fromMe || message.status === "failed") continue;
    ctx.repo.putMessage(batch, { ...message, status: "failed" });
    events.push({
      type: "warning",
      conversationId: conversation.id,
      code: "send_failed",
      messageId: sent.id,
      cause: "removed from the group before the message reached it",
    });
  }
  return events;
}
