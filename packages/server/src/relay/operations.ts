/**
 * The relay's operations, independent of transport: the HTTP routes and the WebSocket session
 * both call these, so both enforce the same checks in the same order.
 */
import {
  COMMAND_CLOCK_SKEW_MS,
  type CreateQueueRequest,
  type CreateQueueResponse,
  createQueueBytes,
  ErrorCodes,
  FETCH_LIMIT,
  fromBase64Url,
  INVITE_MAX_BYTES,
  isBucketSize,
  type RecipientCommand,
  recipientCommandBytes,
  rendezvousIds,
} from "@parley/protocol";
import { authorize, checkClock, verifySigned } from "../auth/authorize.js";
import { isUsablePublicKey } from "../auth/ed25519.js";
import { badRequest, Problem } from "../problem.js";
import {
  type BodyBuffers,
  capsFor,
  type QueueLimits,
  type QueueRecord,
  type StoredMessage,
} from "../store/store.js";
import type { RelayContext } from "./context.js";

/**
 * The signature covers the mode (createQueueBytes), so a request signed for a unicast queue cannot
 * be turned into a broadcast one or back. Nonces of queue creation are kept per recipient key.
 *
 * Refused first, before any costly check: while storage is full (`storage_full`), and without a
 * proof of work over the signed bytes when the relay asks for one (`pow_required`).
 */
export async function createQueue(
  ctx: RelayContext,
  req: CreateQueueRequest,
  powStamp?: string,
): Promise<CreateQueueResponse> {
  await ctx.storage.check();
  ctx.pow.check(powStamp, createQueueBytes(req));
  const now = ctx.now();
  checkRecipientKey(req.recipientKey);
  await authorize(
    ctx.store,
    { scope: req.recipientKey, publicKey: req.recipientKey, signed: createQueueBytes(req), ...pick(req) },
    now,
    ctx.retention.nonceExpiry(req.ts, COMMAND_CLOCK_SKEW_MS),
  );
  const broadcast = req.broadcast === true;
  if (req.rendezvous === true) return rendezvousQueue(ctx, req.recipientKey, broadcast, now);
  const ids = await ctx.store.createQueue(req.recipientKey, ctx.retention.queueIdleUntil(now), { broadcast });
  return broadcast ? { ...ids, broadcast: true } : ids;
}

/**
 * A rendezvous queue: the broadcast queue whose ids the relay derives from the recipient key
 * (rendezvousIds), created by the first request and found by every later one. Group members who
 * lost their queue derive the same key from the group's secrets and so meet on the same queue; the
 * relay learns no more than from any broadcast queue (the key was unknown to it before either way).
 */
async function rendezvousQueue(
  ctx: RelayContext,
  recipientKey: string,
  broadcast: boolean,
  now: number,
): Promise<CreateQueueResponse> {
  if (!broadcast) throw badRequest("a rendezvous queue is a broadcast queue: send broadcast: true");
  const ids = rendezvousIds(recipientKey);
  const result = await ctx.store.createRendezvousQueue(recipientKey, ids, ctx.retention.queueIdleUntil(now));
  if (result === "conflict") throw new Problem(ErrorCodes.badRequest, "these queue ids are taken");
  return { ...ids, broadcast: true };
}

/**
 * Sealed sender: no authentication, only the shape of the body is checked, then the quotas: the
 * relay's storage (`storage_full`) and the queue's caps (`queue_full`).
 */
export async function send(ctx: RelayContext, sendId: string, body: Uint8Array): Promise<{ msgId: string }> {
  if (body.length > ctx.config.maxMessageBytes) {
    throw new Problem(
      ErrorCodes.tooLarge,
      `message is larger than this relay's limit of ${ctx.config.maxMessageBytes} bytes`,
    );
  }
  if (!isBucketSize(body.length)) {
    throw new Problem(ErrorCodes.badPadding, `message length ${body.length} is not a padding bucket size`);
  }
  await ctx.storage.check();
  // Subscribers hear of it as soon as it is readable, not once it is also on disk (SQLite syncs
  // its WAL apart from the commit): the sender's 202 still waits for the disk, and a message a
  // power cut takes back after a recipient got it is sent again by its sender (no 202) and dropped
  // by the recipient as one it has (its digest). A third of a 1:1 message's relay time was that sync.
  let announced: Promise<void> | undefined;
  const stored = await ctx.store.enqueue(
    sendId,
    body,
    ctx.retention.messageExpiry(ctx.now()),
    queueLimits(ctx),
    {
      onReadable: (queueId, message) => {
        announced = ctx.bus.publish(queueId, message);
        announced.catch(() => {}); // its failure is thrown below, once the send is answered
      },
    },
  );
  switch (stored.status) {
    case "unknown_queue":
      throw unknownQueue();
    case "queue_full":
      throw new Problem(
        ErrorCodes.queueFull,
        stored.limit === "messages"
          ? `the queue holds ${stored.usage.messages} messages, this relay's limit: its recipient must collect them first (or they expire)`
          : `the queue holds as many bytes as this relay allows one queue (${stored.usage.bytes}): its recipient must collect them first (or they expire)`,
      );
    case "stored":
      ctx.metrics?.stored.inc();
      await (announced ?? ctx.bus.publish(stored.queueId));
      return { msgId: stored.msgId };
  }
}

/**
 * Several sends in one request, stored one after another in the order given; the first refusal
 * ends the batch (what follows it is not tried, so a sender's order holds). Anything but a refusal
 * (a bug, the store down) fails the request as a single send would.
 */
export async function sendBatch(
  ctx: RelayContext,
  messages: readonly { sendId: string; body: Uint8Array }[],
): Promise<{ msgIds: string[]; refused?: { code: string; error: string; status: number } }> {
  const msgIds: string[] = [];
  for (const m of messages) {
    try {
      msgIds.push((await send(ctx, m.sendId, m.body)).msgId);
    } catch (e) {
      if (!(e instanceof Problem)) throw e;
      return { msgIds, refused: { code: e.code, error: e.message, status: e.status } };
    }
  }
  return { msgIds };
}

/** The relay's per-queue caps, as the store applies them (capsFor). */
const queueLimits = (ctx: RelayContext): QueueLimits => ({
  maxMessages: ctx.config.maxQueueMessages,
  maxBytes: ctx.config.maxQueueBytes,
  broadcastMaxMessages: ctx.config.maxGroupQueueMessages,
  broadcastMaxBytes: ctx.config.maxGroupQueueBytes,
});

/** Sends up to this size (a chat message's bucket: 512 B, 2 KiB, 4 KiB) are read before they are checked (refuseSendEarly). */
export const EARLY_CHECK_MIN_BYTES = 4096;

/**
 * What a send of `bytes` to `sendId` would be refused for, known before its body is read: no such
 * queue, a full relay, a full queue. Undefined: read the body and try (send() checks again).
 */
export async function refuseSendEarly(
  ctx: RelayContext,
  sendId: string,
  bytes: number,
): Promise<Problem | undefined> {
  // A small body costs less to read than the two lookups that could refuse it unread (on
  // PostgreSQL two round trips before every message): only large ones are checked first.
  if (bytes <= EARLY_CHECK_MIN_BYTES) return undefined;
  try {
    await ctx.storage.check();
  } catch (e) {
    if (e instanceof Problem) return e;
    throw e;
  }
  const queue = await ctx.store.getQueueBySendId(sendId);
  if (!queue) return unknownQueue();
  const usage = await ctx.store.queueUsage(queue.queueId);
  if (!usage) return unknownQueue();
  const { maxMessages, maxBytes } = capsFor(queueLimits(ctx), queue.broadcast);
  if (usage.messages + 1 > maxMessages || usage.bytes + bytes > maxBytes) {
    return new Problem(
      ErrorCodes.queueFull,
      "the queue holds as much as this relay allows one queue: its recipient must collect it first (or it expires)",
    );
  }
  return undefined;
}

/**
 * Checks a recipient command: fresh, for an existing queue, signed by that queue's key, not a
 * replay (except an ack, which is harmless to replay: see ack). Then records the use, which keeps
 * the queue alive.
 */
export async function authorizeCommand(ctx: RelayContext, cmd: RecipientCommand): Promise<QueueRecord> {
  const now = ctx.now();
  // The clock is checked before the store is touched: a stale command costs no lookup.
  checkClock(cmd.ts, now);
  if (cmd.cmd === "ack" && (cmd.msgId === undefined) === (cmd.msgIds === undefined))
    throw new Problem(ErrorCodes.badRequest, "ack needs a msgId or msgIds (one of them)");
  if (cmd.cmd !== "ack" && cmd.msgIds !== undefined)
    throw new Problem(ErrorCodes.badRequest, "only ack takes msgIds");
  const queue =
    cmd.cmd === "ack" ? await knownQueue(ctx, cmd.queueId) : await ctx.store.getQueue(cmd.queueId);
  if (!queue) throw unknownQueue();
  if (cmd.cmd !== "ack") rememberQueue(ctx, queue);
  const signed = {
    scope: queue.queueId,
    publicKey: queue.recipientKey,
    signed: recipientCommandBytes(cmd),
    ...pick(cmd),
  };
  // An ack's nonce is not recorded (see ack() below): its signature and clock are still checked.
  if (cmd.cmd === "ack") verifySigned(signed, now);
  else await authorize(ctx.store, signed, now, ctx.retention.nonceExpiry(cmd.ts, COMMAND_CLOCK_SKEW_MS));
  // Checked once the command is known to come from the key holder: only they learn the mode.
  if (queue.broadcast && cmd.cmd === "ack") throw badRequest("broadcast queues are not acknowledged");
  // Every member of a group holds its queue's key, and so does everyone removed since: were `del`
  // allowed, any of them could end the group for everyone. A broadcast queue expires when idle.
  if (queue.broadcast && cmd.cmd === "del") {
    throw badRequest("broadcast queues are not deleted: they expire when no one uses them");
  }
  if (!queue.broadcast && cmd.cmd === "sub" && cmd.msgId !== undefined) {
    throw badRequest("sub takes a cursor on broadcast queues only");
  }
  await touchQueue(ctx, queue.queueId, ctx.retention.queueIdleUntil(now));
  return queue;
}

/**
 * The idle time this node last wrote per queue. A queue's `idle_until` only grows (touchQueue
 * writes only a later time; only deleting the queue removes it, and expiry deletes a queue only once
 * its time has passed), so while the rounded time has not moved, a command needs no write at all:
 * that write was a statement (PostgreSQL: a round trip; SQLite: a turn of the group commit and a
 * WAL sync) on every ack. Bounded: cleared when it reaches TOUCHED_MAX entries.
 */
const touched = new WeakMap<RelayContext["store"], Map<string, number>>();
const TOUCHED_MAX = 100_000;

async function touchQueue(ctx: RelayContext, queueId: string, idleUntil: number): Promise<void> {
  let seen = touched.get(ctx.store);
  if (!seen) {
    seen = new Map();
    touched.set(ctx.store, seen);
  }
  if ((seen.get(queueId) ?? Number.NEGATIVE_INFINITY) >= idleUntil) return;
  await ctx.store.touchQueue(queueId, idleUntil);
  if (seen.size >= TOUCHED_MAX) seen.clear();
  seen.set(queueId, idleUntil);
}

/**
 * Queues this node has read recently, for acks: a queue's key and mode never change, so an ack (one
 * per message delivered) needs no lookup of them. A queue deleted meanwhile is noticed by the ack
 * itself (`unknown_message`). Other commands read the queue every time: `sub` and `del` must see
 * whether it still exists. Bounded like the touch times above.
 */
const queueRecords = new WeakMap<RelayContext["store"], Map<string, QueueRecord>>();

function recordsOf(ctx: RelayContext): Map<string, QueueRecord> {
  let records = queueRecords.get(ctx.store);
  if (!records) {
    records = new Map();
    queueRecords.set(ctx.store, records);
  }
  return records;
}

function rememberQueue(ctx: RelayContext, queue: QueueRecord): void {
  const records = recordsOf(ctx);
  if (records.size >= TOUCHED_MAX) records.clear();
  records.set(queue.queueId, queue);
}

async function knownQueue(ctx: RelayContext, queueId: string): Promise<QueueRecord | null> {
  const known = recordsOf(ctx).get(queueId);
  if (known) return known;
  const queue = await ctx.store.getQueue(queueId);
  if (queue) rememberQueue(ctx, queue);
  return queue;
}

/** Where a reader with `cursor` (a msgId) resumes: after that message, or from the start if gone. */
export interface ResolvedCursor {
  /** Deliver messages after this position; undefined: everything held. */
  afterSeq: number | undefined;
  /** Present when a cursor was given: does the queue still hold it? */
  cursorFound: boolean | undefined;
}

export async function resolveCursor(
  ctx: RelayContext,
  queueId: string,
  cursor: string | undefined,
): Promise<ResolvedCursor> {
  if (cursor === undefined) return { afterSeq: undefined, cursorFound: undefined };
  const position = await ctx.store.positionOf(queueId, cursor);
  return { afterSeq: position ?? undefined, cursorFound: position !== null };
}

/** One fetch: the oldest pending messages (after `cursor`, if given), within the count and byte caps. */
export async function fetchPending(
  ctx: RelayContext,
  queueId: string,
  cursor?: string,
  into?: BodyBuffers,
): Promise<{ messages: StoredMessage[]; cursorFound: boolean | undefined }> {
  const { afterSeq, cursorFound } = await resolveCursor(ctx, queueId, cursor);
  const messages = await ctx.store.fetchPending(queueId, {
    limit: FETCH_LIMIT,
    maxBytes: ctx.config.maxFetchBytes,
    ...(afterSeq === undefined ? {} : { afterSeq }),
    ...(into ? { into } : {}),
  });
  return { messages, cursorFound };
}

/** The most message bytes one fetch can return: what a fetch leases before it reads the store. */
export const fetchReserveBytes = (ctx: RelayContext): number =>
  Math.max(ctx.config.maxFetchBytes, ctx.config.maxMessageBytes);

export const bodyBytes = (messages: readonly StoredMessage[]): number =>
  messages.reduce((n, m) => n + m.body.length, 0);

/**
 * Unicast queues only (authorizeCommand refuses an ack on a broadcast queue, and the store deletes
 * nothing from one). `cmd` is the ack authorizeCommand checked: signed by the queue's key, fresh.
 *
 * Its nonce is not recorded: an ack needs no replay protection of its own. The signature binds it
 * to one message id, ids are random and never handed out again, so playing a captured ack again can
 * only delete what it already deleted; the replay is answered `unknown_message`, as a second ack
 * of the same message is. Recording it was half of the store's work per delivered message (a random
 * key into the nonces table and its expiry index, then their deletion by the sweep: on SQLite 0.13
 * → 0.07 ms CPU per enqueue + fetch + ack), and one of the statements of every ack on PostgreSQL.
 */
export async function ack(ctx: RelayContext, cmd: RecipientCommand & { msgId: string }): Promise<void> {
  if (!(await ctx.store.ack(cmd.queueId, cmd.msgId))) {
    throw new Problem(
      ErrorCodes.unknownMessage,
      "no such message in this queue (already acknowledged or expired)",
    );
  }
}

/**
 * A batched ack (unicast queues only, like ack): deletes the listed messages the queue holds, in
 * one write, and returns the ids it did not hold. Its authority comes from the caller: a signed
 * `ack` with `msgIds` that authorizeCommand checked (one signature over the whole list), or a
 * session ack on a WebSocket that holds a signed subscription to the queue (authorizeSessionAck).
 *
 * Like a single ack it needs no replay protection: ids are random and never handed out again, so a
 * batch played again deletes nothing new and is answered with every id `unknown`.
 */
export async function ackBatch(
  ctx: RelayContext,
  queueId: string,
  msgIds: readonly string[],
): Promise<{ unknown: string[] }> {
  const deleted = new Set(await ctx.store.ackMany(queueId, msgIds));
  return { unknown: msgIds.filter((id) => !deleted.has(id)) };
}

/**
 * A session ack (WebSocket only): allowed when this connection holds a subscription to the queue,
 * which only a signed, fresh, not replayed `sub` by the queue's key opened; otherwise refused as an
 * unsigned command (`bad_signature`), nothing deleted. Refused on a broadcast queue as a signed ack
 * is. Keeps the queue alive like any recipient command.
 */
export async function authorizeSessionAck(
  ctx: RelayContext,
  queueId: string,
  subscription: { broadcast: boolean } | undefined,
): Promise<void> {
  if (!subscription) {
    throw new Problem(
      ErrorCodes.badSignature,
      "an unsigned ack needs a subscription to its queue on this connection: sign it, or subscribe first",
    );
  }
  if (subscription.broadcast) throw badRequest("broadcast queues are not acknowledged");
  await touchQueue(ctx, queueId, ctx.retention.queueIdleUntil(ctx.now()));
}

export async function deleteQueue(ctx: RelayContext, queueId: string): Promise<void> {
  recordsOf(ctx).delete(queueId);
  touched.get(ctx.store)?.delete(queueId);
  if (!(await ctx.store.deleteQueue(queueId))) throw unknownQueue();
}

/** Like queue creation: refused while storage is full, and without proof of work when asked. */
export async function createInvite(
  ctx: RelayContext,
  blob: Uint8Array,
  powStamp?: string,
): Promise<{ inviteId: string }> {
  if (blob.length === 0) throw new Problem(ErrorCodes.badRequest, "an invite needs a body");
  if (blob.length > INVITE_MAX_BYTES) {
    throw new Problem(ErrorCodes.tooLarge, `an invite is at most ${INVITE_MAX_BYTES} bytes`);
  }
  await ctx.storage.check();
  ctx.pow.check(powStamp, blob);
  const inviteId = await ctx.store.createInvite(blob, ctx.retention.inviteExpiry(ctx.now()));
  return { inviteId };
}

/** The invite's blob, left in place: a client opens it with the link's key before claiming it. */
export async function peekInvite(ctx: RelayContext, inviteId: string): Promise<Uint8Array> {
  const blob = await ctx.store.peekInvite(inviteId, ctx.now());
  if (!blob) throw inviteGone();
  return blob;
}

export async function claimInvite(ctx: RelayContext, inviteId: string): Promise<Uint8Array> {
  const blob = await ctx.store.claimInvite(inviteId, ctx.now());
  if (!blob) throw inviteGone();
  return blob;
}

/** A queue's key must be a usable Ed25519 key (see isUsablePublicKey), else 400 before anything else. */
function checkRecipientKey(recipientKey: string): void {
  let raw: Uint8Array;
  try {
    raw = fromBase64Url(recipientKey);
  } catch {
    throw badRequest("recipient key is not canonical base64url");
  }
  if (!isUsablePublicKey(raw)) {
    throw badRequest(
      "recipient key is not a usable Ed25519 public key (not canonically encoded, not on the curve, or of small order)",
    );
  }
}

const unknownQueue = () => new Problem(ErrorCodes.unknownQueue, "no such queue");
const inviteGone = () =>
  new Problem(ErrorCodes.inviteGone, "this invite was already used, has expired, or never existed");

const pick = (r: { ts: number; nonce: string; sig: string }) => ({ ts: r.ts, nonce: r.nonce, sig: r.sig });
