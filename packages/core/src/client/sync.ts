/** Pull delivery: fetch everything waiting on every queue of this device, in order, and acknowledge. */

import { RelayError } from "../relay-client/errors.js";
import type { RelayHttpClient } from "../relay-client/relay-http.js";
import type { QueueCredentials } from "../relay-client/signing.js";
import { groupJoins, groupLinks } from "../store/group-links.js";
import { runAfterMigration } from "./after-migration.js";
import { type ClientContext, requireProfile } from "./context.js";
import { resumeDirectCommits } from "./devices/direct-order.js";
import { announceActive } from "./devices/self-group.js";
import type { ClientEvent } from "./events.js";
import { runFollowups } from "./followups/run.js";
import type { Followup } from "./followups/types.js";
import { resumeCommits, waitingCommits } from "./groups/commit-order.js";
import { checkDeadEpochs, type QueueReading } from "./groups/dead-epoch.js";
import { scheduledKeyUpdates } from "./groups/key-schedule.js";
import { meetOnRendezvousLocked } from "./groups/queue.js";
import { isBroadcast, receiveOne } from "./inbox/receive.js";
import { conversationReceivingOn, requireConversation } from "./lookup.js";
import { sendContentLocked } from "./outbox.js";
import { deliverOutbox } from "./outbox-delivery.js";

export async function sync(ctx: ClientContext): Promise<ClientEvent[]> {
  await requireProfile(ctx);
  // What waits in the outbox goes first (the user wrote it before anything this sync brings), at
  // once: backoff paces the automatic retries of `listen`, not a sync the user asked for.
  const events: ClientEvent[] = (await deliverOutbox(ctx, { now: true })).events;
  const followups: Followup[] = [];
  // Our changes already waiting before anything is read (resumeCommits sends only those again).
  const waiting = await waitingCommits(ctx);
  // Processing can add queues (a group joined, a group moved): go round until nothing is new.
  const done = new Set<string>();
  const readings = new Map<string, QueueReading>();
  for (let round = 0; round < 5; round++) {
    const queues = (await receiveQueues(ctx)).filter((q) => !done.has(q.queueId));
    if (queues.length === 0) break;
    for (const queue of queues) {
      done.add(queue.queueId);
      const reading: QueueReading = { gap: false, accepted: false };
      readings.set(queue.queueId, reading);
      await drainQueue(ctx, queue, events, followups, reading);
    }
  }
  events.push(...(await runFollowups(ctx, followups)));
  events.push(...(await resumeCommits(ctx, waiting)));
  await resumeDirectCommits(ctx);
  events.push(...(await runAfterMigration(ctx)));
  events.push(...(await scheduledKeyUpdates(ctx)));
  await announceActive(ctx);
  // Last, with every queue read to its end: a group this device can no longer follow asks back in.
  events.push(...(await checkDeadEpochs(ctx, readings)));
  return events;
}

/** Handles one delivered envelope; idempotent per (queue, msgId). Throws only on local failures. */
export async function receive(
  ctx: ClientContext,
  queue: QueueCredentials,
  msgId: string,
  body: Uint8Array,
): Promise<ClientEvent[]> {
  const r = await receiveOne(ctx, queue, msgId, body);
  return [...r.events, ...(await runFollowups(ctx, r.followups))];
}

/** Every queue this device reads: pending invites, and its active conversations' (current and previous). */
/** How long the answer queue of one of our join requests is read (group-links/join.ts). */
export const JOIN_ANSWER_WAIT_MS = 30 * 24 * 3600_000;

export async function receiveQueues(ctx: ClientContext): Promise<QueueCredentials[]> {
  const queues = (await ctx.repo.invites()).map((i) => i.queue);
  // Join requests to our group links, answers to our own join requests (group-links/).
  for (const l of await groupLinks(ctx.repo)) queues.push(l.queue);
  // A request nobody answers (declined, or the admin never came back) is read for a while, not forever.
  for (const j of await groupJoins(ctx.repo))
    if (ctx.now() - j.createdAt < JOIN_ANSWER_WAIT_MS) queues.push(j.queue);
  for (const c of await ctx.repo.conversations()) {
    if (c.kind === "direct") queues.push(c.receive);
    else if (c.status === "active") queues.push(c.receive, ...c.previousQueues);
  }
  return queues;
}

export async function drainQueue(
  ctx: ClientContext,
  queue: QueueCredentials,
  events: ClientEvent[],
  followups: Followup[],
  /** What this drain saw, for dead-epoch detection (groups/dead-epoch.ts). */
  reading?: QueueReading,
) {
  const relay = ctx.relay(queue.relay);
  const broadcast = isBroadcast(queue);
  for (;;) {
    const after = broadcast ? await ctx.repo.cursor(queue.queueId) : undefined;
    let batch: Awaited<ReturnType<RelayHttpClient["fetchMessages"]>>;
    try {
      batch = await relay.fetchMessages(queue, after === undefined ? {} : { after });
    } catch (e) {
      if (e instanceof RelayError && e.code === "unknown_queue") {
        // A group queue we moved away from may have expired: nothing more to read there. Our
        // own 1:1 queue expired while we were away: make a new one and tell the contact.
        const renewed =
          (await renewDirectQueue(ctx, queue)) ??
          (await ctx.lock.run(() => meetOnRendezvousLocked(ctx, queue)))?.event;
        // sync() goes round again for queues that appeared: the new one is read in this sync.
        if (renewed) events.push(renewed);
        return;
      }
      throw e;
    }
    if (!batch.cursorFound) {
      events.push({ type: "rejected", reason: "messages_expired", queueId: queue.queueId });
      // Said once: the cursor named a message that is gone; reading on starts from what is held.
      await ctx.lock.run(() => ctx.repo.commit(ctx.repo.deleteCursor(ctx.repo.batch(), queue.queueId)));
      if (reading) Object.assign(reading, { gap: true, accepted: false });
    }
    // Loop until the relay has nothing more: a reply is capped by count and by bytes.
    if (batch.length === 0) return;
    for (const m of batch) {
      const r = await receiveOne(ctx, queue, m.msgId, m.body);
      if (reading && r.saved) reading.accepted = true;
      events.push(...r.events);
      followups.push(...r.followups);
    }
    // Acknowledged once the whole batch is stored, with one signed ack for the batch (a fetch
    // returns at most FETCH_LIMIT ≤ ACK_BATCH_LIMIT messages): it waits for the batch to be durable
    // (one fsync: RelayHttpClient's beforeRequest). A crash before then fetches them again, and they
    // are skipped as seen. Ids the relay no longer holds (an ack by `listen` won the race) are no error.
    if (!broadcast)
      await relay.ackMany(
        queue,
        batch.map((m) => m.msgId),
      );
  }
}

/**
 * Our receive queue of a 1:1 conversation vanished from the relay (it expired while this device
 * was away longer than the relay's TTL, or the relay lost it): a new queue, and its address sent
 * to the contact inside the conversation's encryption, so the conversation carries on. Returns
 * undefined for queues that are not a direct conversation's current one.
 */
async function renewDirectQueue(
  ctx: ClientContext,
  queue: QueueCredentials,
): Promise<ClientEvent | undefined> {
  const conversation = await conversationReceivingOn(ctx, queue.queueId);
  if (conversation?.kind !== "direct") return undefined;
  const fresh = await ctx.relay(queue.relay).createQueue();
  await ctx.lock.run(async () => {
    const current = await requireConversation(ctx, conversation.id);
    if (current.receive.queueId !== queue.queueId) return; // renewed meanwhile
    const batch = ctx.repo.batch();
    ctx.repo.putConversation(batch, { ...current, receive: fresh });
    ctx.repo.putRoute(batch, fresh.queueId, { kind: "conversation", conversationId: current.id });
    await ctx.repo.commit(batch);
  });
  try {
    await ctx.lock.run(() =>
      sendContentLocked(ctx, conversation.id, {
        type: "reply-to",
        replyTo: { relay: fresh.relay, sendId: fresh.sendId },
      }),
    );
  } catch (e) {
    return {
      type: "warning",
      code: "followup_failed",
      conversationId: conversation.id,
      followup: "reply-to",
      cause: (e as Error).message,
    };
  }
  return { type: "warning", code: "queue_renewed", conversationId: conversation.id, kind: "direct" };
}
