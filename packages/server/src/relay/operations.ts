/**
 * The relay's operations, independent of transport: the HTTP routes and the WebSocket session
 * both call these, so both enforce the same checks in the same order.
 */
import {
  COMMAND_CLOCK_SKEW_MS,
  type CreateQueueRequest,
  createQueueBytes,
  ErrorCodes,
  INVITE_MAX_BYTES,
  isBucketSize,
  type RecipientCommand,
  recipientCommandBytes,
} from "@parley/core";
import { authorize, checkClock } from "../auth/authorize.js";
import { Problem } from "../problem.js";
import type { QueueRecord, StoredMessage } from "../store/store.js";
import type { RelayContext } from "./context.js";

/** docs/protocol.md: a fetch returns at most this many messages. */
export const FETCH_LIMIT = 100;

export async function createQueue(
  ctx: RelayContext,
  req: CreateQueueRequest,
): Promise<{ queueId: string; sendId: string }> {
  const now = ctx.now();
  await authorize(
    ctx.store,
    { scope: req.recipientKey, publicKey: req.recipientKey, signed: createQueueBytes(req), ...pick(req) },
    now,
    ctx.retention.nonceExpiry(req.ts, COMMAND_CLOCK_SKEW_MS),
  );
  return ctx.store.createQueue(req.recipientKey, ctx.retention.queueIdleUntil(now));
}

/** Sealed sender: no authentication, only the shape of the body is checked. */
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
  const stored = await ctx.store.enqueue(sendId, body, ctx.retention.messageExpiry(ctx.now()));
  if (!stored) throw unknownQueue();
  await ctx.bus.publish(stored.queueId);
  return { msgId: stored.msgId };
}

/**
 * Checks a recipient command: fresh, for an existing queue, signed by that queue's key, not a
 * replay. Then records the use, which keeps the queue alive.
 */
export async function authorizeCommand(ctx: RelayContext, cmd: RecipientCommand): Promise<QueueRecord> {
  const now = ctx.now();
  // The clock is checked before the store is touched: a stale command costs no lookup.
  checkClock(cmd.ts, now);
  if (cmd.cmd === "ack" && cmd.msgId === undefined)
    throw new Problem(ErrorCodes.badRequest, "ack needs a msgId");
  const queue = await ctx.store.getQueue(cmd.queueId);
  if (!queue) throw unknownQueue();
  await authorize(
    ctx.store,
    { scope: queue.queueId, publicKey: queue.recipientKey, signed: recipientCommandBytes(cmd), ...pick(cmd) },
    now,
    ctx.retention.nonceExpiry(cmd.ts, COMMAND_CLOCK_SKEW_MS),
  );
  await ctx.store.touchQueue(queue.queueId, ctx.retention.queueIdleUntil(now));
  return queue;
}

export function fetchPending(ctx: RelayContext, queueId: string): Promise<StoredMessage[]> {
  return ctx.store.fetchPending(queueId, { limit: FETCH_LIMIT, maxBytes: ctx.config.maxFetchBytes });
}

export async function ack(ctx: RelayContext, queueId: string, msgId: string): Promise<void> {
  if (!(await ctx.store.ack(queueId, msgId))) {
    throw new Problem(
      ErrorCodes.unknownMessage,
      "no such message in this queue (already acknowledged or expired)",
    );
  }
}

export async function deleteQueue(ctx: RelayContext, queueId: string): Promise<void> {
  if (!(await ctx.store.deleteQueue(queueId))) throw unknownQueue();
}

export async function createInvite(ctx: RelayContext, blob: Uint8Array): Promise<{ inviteId: string }> {
  if (blob.length === 0) throw new Problem(ErrorCodes.badRequest, "an invite needs a body");
  if (blob.length > INVITE_MAX_BYTES) {
    throw new Problem(ErrorCodes.tooLarge, `an invite is at most ${INVITE_MAX_BYTES} bytes`);
  }
  const inviteId = await ctx.store.createInvite(blob, ctx.retention.inviteExpiry(ctx.now()));
  return { inviteId };
}

export async function claimInvite(ctx: RelayContext, inviteId: string): Promise<Uint8Array> {
  const blob = await ctx.store.claimInvite(inviteId, ctx.now());
  if (!blob)
    throw new Problem(ErrorCodes.inviteGone, "this invite was already used, has expired, or never existed");
  return blob;
}

const unknownQueue = () => new Problem(ErrorCodes.unknownQueue, "no such queue");

const pick = (r: { ts: number; nonce: string; sig: string }) => ({ ts: r.ts, nonce: r.nonce, sig: r.sig });
