/**
 * Sending without a sync to disk per message, and never a key twice.
 *
 * A sealed message must not leave while the ratchet step that sealed it could still be lost: after
 * a power cut the device would come back on the older state and seal its next message with the
 * same key (RFC 9420 §9.1: one key and nonce per generation; the reuse guard of §6.3.1 only makes a
 * repeated nonce unlikely), and every receiver would refuse that message as a replayed generation.
 * Waiting for the store's sync (`durable`, an fsync of ~1 ms) before every request did that at the
 * price of a disk sync in every message's path (issue 14: a third of a message's latency).
 *
 * Instead the device reserves generations ahead, as a database reserves sequence numbers: a record
 * `{epoch, bound}` (SendingAheadRecord) goes to disk, synced, before any message of a generation
 * below `bound` leaves without a sync of its own, and each reservation covers AHEAD generations.
 * A process that finds a reservation it did not make itself (this process has none in memory for
 * the group's epoch) cannot know whether an earlier one sent up to its bound before losing its
 * state, so it skips its ratchet past `bound` first (EncryptOptions.minGeneration: the keys in
 * between are never derived). An orderly close hands back what it reserved and did not use
 * (`releaseSendingAhead`), so the next process starts where the ratchet is: a skip happens after
 * a crash, and also when two processes of a profile send in one conversation at the same time
 * (`parley send` beside a running `parley listen`: the second finds the first's reservation), at
 * most AHEAD generations, which receivers take as messages that never came (§9: out-of-order
 * generations within MAX_SKIP) and report as missing (inbox/gaps.ts): a false alarm for now.
 *
 * What is given up: after a power cut (not a killed process: the store's writes survive that), the
 * last messages sent before it may be missing from this device's own history, though their
 * receivers have them. What is kept: no key is ever used twice, and kill -9 loses nothing.
 */
import type { GroupState } from "../mls/engine.js";
import type { ClientContext } from "./context.js";

/** Generations one reservation covers: one sync to disk per this many messages in a conversation. */
export const AHEAD = 32;

/** What this process reserved, per group: usable without a sync once the record is on disk. */
interface Reservation {
  epoch: bigint;
  bound: number;
  /** The highest generation this process sealed with. */
  lastUsed: number;
  /** The record is on disk (its sync finished). */
  onDisk: boolean;
}

const reserved = new WeakMap<ClientContext, Map<string, Reservation>>();

function reservationsOf(ctx: ClientContext): Map<string, Reservation> {
  let m = reserved.get(ctx);
  if (!m) {
    m = new Map();
    reserved.set(ctx, m);
  }
  return m;
}

/**
 * Seals `plaintext` in `groupId`'s `state` (under the profile lock). `ahead`: its generation is
 * covered by a reservation on disk, so it may leave before the store's next sync; otherwise it
 * must wait for that sync as before (and a reservation for the next ones is on its way).
 */
export async function sealAhead(
  ctx: ClientContext,
  groupId: string,
  state: GroupState,
  plaintext: Uint8Array,
): Promise<{ state: GroupState; message: Uint8Array; ahead: boolean }> {
  const mine = reservationsOf(ctx);
  let current = mine.get(groupId);
  if (current && current.epoch !== state.epoch) {
    mine.delete(groupId);
    current = undefined;
  }
  let minGeneration: number | undefined;
  let stored: number | undefined;
  if (!current) {
    const record = await ctx.repo.sendingAhead(groupId);
    if (record && BigInt(record.epoch) === state.epoch) {
      // Not ours: whoever made it may have sent up to its bound and lost the state since.
      minGeneration = record.bound;
      stored = record.bound;
    }
  }
  const sealed = await ctx.engine.encrypt(
    state,
    plaintext,
    minGeneration !== undefined ? { minGeneration } : {},
  );
  const generation = sealed.generation;
  // An engine that cannot say which generation it used: every message waits for the sync.
  if (generation === undefined) return { state: sealed.state, message: sealed.message, ahead: false };
  if (current && generation < current.bound) {
    current.lastUsed = Math.max(current.lastUsed, generation);
    return { state: sealed.state, message: sealed.message, ahead: current.onDisk };
  }
  // Past what is reserved (or nothing is): this message waits for the sync, which also puts the
  // next reservation on disk.
  const bound = Math.max(generation + 1 + AHEAD, stored ?? 0, current?.bound ?? 0);
  const next: Reservation = { epoch: state.epoch, bound, lastUsed: generation, onDisk: false };
  mine.set(groupId, next);
  await ctx.repo.commit(
    ctx.repo.putSendingAhead(ctx.repo.batch(), groupId, { epoch: state.epoch.toString(), bound }),
  );
  void ctx.repo.kv.durable().then(
    () => {
      next.onDisk = true;
    },
    () => {
      // Not on disk: the next messages wait for the sync each, until a reservation makes it.
      if (mine.get(groupId) === next) mine.delete(groupId);
    },
  );
  return { state: sealed.state, message: sealed.message, ahead: false };
}

/** Whether this process holds reservations (`releaseSendingAhead` has something to do). */
export const holdsSendingAhead = (ctx: ClientContext): boolean => (reserved.get(ctx)?.size ?? 0) > 0;

/**
 * At an orderly close (under the profile lock): each reservation this process made and nobody
 * replaced is cut back to the generation after the last it used, so the next process does not skip.
 */
export async function releaseSendingAhead(ctx: ClientContext): Promise<void> {
  const mine = reserved.get(ctx);
  if (!mine || mine.size === 0) return;
  const batch = ctx.repo.batch();
  for (const [groupId, r] of mine) {
    const record = await ctx.repo.sendingAhead(groupId);
    if (record && BigInt(record.epoch) === r.epoch && record.bound === r.bound)
      ctx.repo.putSendingAhead(batch, groupId, { epoch: r.epoch.toString(), bound: r.lastUsed + 1 });
  }
  mine.clear();
  await ctx.repo.commit(batch);
}
