/**
 * Everything the relay keeps, behind one interface so backends can be swapped (SQLite now,
 * PostgreSQL later). Methods are async for that reason even where SQLite is synchronous.
 *
 * The store holds only what delivery needs: recipient keys, random ids, opaque bodies and expiry
 * times. Times are given by the caller, already rounded (see retention.ts); the store keeps them
 * as they are and never reads the clock itself, so every backend behaves the same under test.
 */

import type { BodyBuffers } from "../relay/body-pool.js";
import type { BlobIndex } from "./blob-index.js";

export type { BlobIndex, BlobRecord } from "./blob-index.js";

export interface QueueRecord {
  queueId: string;
  sendId: string;
  /** base64url Ed25519 public key that signs this queue's recipient commands. */
  recipientKey: string;
  /** The queue is deleted once this time passes without it being used. */
  idleUntil: number;
  /**
   * A broadcast queue (a group's one queue, read by every member with the same key): `ack` deletes
   * nothing, messages leave only by expiry, readers keep their place with a cursor.
   */
  broadcast: boolean;
}

export interface CreateQueueOptions {
  broadcast?: boolean;
}

export interface StoredMessage {
  msgId: string;
  body: Uint8Array;
  expiresAt: number;
  /**
   * The message's position in its queue: later messages have larger values, and a new message is
   * placed after every message the queue has ever held (acknowledged and expired ones included):
   * positions never go backwards within a queue, so a reader's position stays valid. Internal to
   * the relay: never sent to clients.
   */
  seq: number;
  /**
   * Set on a message handed to subscribers with its announcement (`EnqueueOptions.onReadable`, a
   * bus's publish): the queue's last position before this message, i.e. the `seq` of the message
   * stored just before it (acknowledged, expired or not). A subscriber whose last pushed message
   * has that position knows that nothing was stored in between, whatever order the announcements of
   * several nodes arrive in (Subscription.announced).
   */
  prevSeq?: number;
}

export type { BodyBuffers };

export interface FetchOptions {
  /** At most this many messages. */
  limit: number;
  /**
   * Stop before the bodies add up to more than this; the first message is returned whatever its
   * size, so a queue can always be drained.
   */
  maxBytes?: number;
  /** Only messages after this position (a `seq`, from positionOf or a message returned earlier). */
  afterSeq?: number;
  /**
   * Filled in by the store when given: `more` is false when the read reached the end of the queue
   * (no message was left out by `limit` or `maxBytes`), so a reader that is woken for every new
   * message need not read again to find nothing (a round trip per delivery on PostgreSQL).
   */
  page?: { more: boolean };
  /**
   * Where bodies the store reads from outside its database go (SQLite's body files): buffers the
   * caller reuses (relay/body-pool.ts) instead of fresh ones. The returned bodies are views of them,
   * valid until the caller gives them back. Stores that hold bodies in memory ignore it.
   */
  into?: BodyBuffers;
}

export interface EnqueueOptions {
  /**
   * Called once the message is readable (a subscription can push it), which may be before the
   * promise resolves: a store that syncs its commits to disk apart from them (SQLite's WAL) calls
   * it between the two, so the message reaches a connected recipient without waiting for the
   * disk. Stores whose commit is already durable (PostgreSQL) need not call it.
   *
   * `message`: the stored message (its id, position, the position before it, and body), when the
   * store has the body in hand (a body kept inline), so a subscriber can push it without reading it
   * back. Its body is the caller's buffer, valid only during the call.
   */
  onReadable?: (queueId: string, message?: StoredMessage) => void;
}

/** Caps on what one queue holds at once (pending messages), checked by `enqueue`. */
export interface QueueLimits {
  maxMessages: number;
  maxBytes: number;
  /**
   * Broadcast (group) queues: every member reads the same copy, and nothing is deleted before the
   * TTL, so a busy group of thousands holds far more than one device's queue. Default: as unicast.
   */
  broadcastMaxMessages?: number;
  broadcastMaxBytes?: number;
}

/** The caps that apply to one queue: the broadcast ones for a broadcast queue, where given. */
export function capsFor(limits: QueueLimits, broadcast: boolean): { maxMessages: number; maxBytes: number } {
  return {
    maxMessages: (broadcast ? limits.broadcastMaxMessages : undefined) ?? limits.maxMessages,
    maxBytes: (broadcast ? limits.broadcastMaxBytes : undefined) ?? limits.maxBytes,
  };
}

/** What a queue holds right now: pending messages and the bytes of their bodies. */
export interface QueueUsage {
  messages: number;
  bytes: number;
}

export type EnqueueResult =
  | { status: "stored"; queueId: string; msgId: string }
  | { status: "unknown_queue" }
  /** Storing the message would take the queue past `limit`; nothing was stored. */
  | { status: "queue_full"; queueId: string; limit: "messages" | "bytes"; usage: QueueUsage };

export interface ExpiryCounts {
  messages: number;
  queues: number;
  invites: number;
  nonces: number;
}

export interface NonceRecord {
  scope: string;
  nonce: string;
  expiresAt: number;
}

export interface DisclosedQueue extends QueueRecord {
  /**
   * The largest message position (`seq`) the queue has handed out, kept after its messages are
   * gone so positions never go backwards. It reveals the count of messages within the rounding
   * period of the queue's last message, no more.
   */
  lastSeq: number;
  /** Pending messages, oldest first, with their (encrypted, padded) bodies. */
  messages: StoredMessage[];
  /** Replay-protection nonces of recent commands on this queue, and of the command that created it. */
  nonces: NonceRecord[];
}

export interface DisclosedInvite {
  inviteId: string;
  blob: Uint8Array;
  expiresAt: number;
}

/** All the relay holds that a given identifier or key leads to. */
export interface Disclosure {
  queues: DisclosedQueue[];
  invites: DisclosedInvite[];
  /** Nonces recorded under the identifier itself but not tied to a queue found above. */
  nonces: NonceRecord[];
}

/**
 * The store's server could not be reached, or would not take the request (PostgreSQL down or
 * restarting, the connection lost, no connection left): the request may not have been done, and
 * trying again later, or on another node, is the answer. The relay says `503 busy`, which clients
 * retry and fail over on, not `500 internal`. (An embedded store has no server to lose.)
 */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StoreUnavailableError";
  }
}

export interface Store {
  /** Blob metadata (file attachments); their bytes are in a BlobStore (blobs/blob-store.ts). */
  readonly blobs: BlobIndex;
  /** Creates a queue (unicast unless `options.broadcast`) with fresh, unrelated queue and send ids. */
  createQueue(
    recipientKey: string,
    idleUntil: number,
    options?: CreateQueueOptions,
  ): Promise<{ queueId: string; sendId: string }>;
  /**
   * Creates the broadcast queue with these ids (a rendezvous queue: the ids follow from the key) if
   * it does not exist. "exists": it did already, with this key (only its idle time is extended);
   * "conflict": the ids are taken by a queue with another key (not seen with derived ids).
   */
  createRendezvousQueue(
    recipientKey: string,
    ids: { queueId: string; sendId: string },
    idleUntil: number,
  ): Promise<"created" | "exists" | "conflict">;
  getQueue(queueId: string): Promise<QueueRecord | null>;
  getQueueBySendId(sendId: string): Promise<QueueRecord | null>;
  /** Extends the queue's life to `idleUntil` (never shortens it). */
  touchQueue(queueId: string, idleUntil: number): Promise<void>;
  /** Deletes the queue and everything in it; false if there was no such queue. */
  deleteQueue(queueId: string): Promise<boolean>;

  /**
   * Appends a message to the queue that `sendId` addresses and extends the queue's life to at
   * least `expiresAt`. Messages of one queue are returned in the order they were enqueued. With
   * `limits`, a message that would take the queue past either cap is not stored (`queue_full`),
   * checked atomically with the insert.
   */
  enqueue(
    sendId: string,
    body: Uint8Array,
    expiresAt: number,
    limits?: QueueLimits,
    options?: EnqueueOptions,
  ): Promise<EnqueueResult>;
  /**
   * What the queue holds right now (kept as counters beside the queue, updated with every enqueue,
   * ack and expiry); null if there is no such queue.
   */
  queueUsage(queueId: string): Promise<QueueUsage | null>;
  /** Pending messages of a queue, oldest first. */
  fetchPending(queueId: string, options: FetchOptions): Promise<StoredMessage[]>;
  /** The position (`seq`) of a message in a queue; null if the queue does not hold it (any more). */
  positionOf(queueId: string, msgId: string): Promise<number | null>;
  /**
   * Deletes one message of a unicast queue; false if the queue holds no such message, and always
   * false (deleting nothing) for a broadcast queue.
   */
  ack(queueId: string, msgId: string): Promise<boolean>;
  /**
   * Deletes the messages of a unicast queue that are among `msgIds`, in one write; returns the ids
   * it deleted (the others: not held by this queue, whether acknowledged before, expired, another
   * queue's or never there). Deletes nothing from a broadcast queue (returns []).
   */
  ackMany(queueId: string, msgIds: readonly string[]): Promise<string[]>;
  /**
   * Records that `nonce` was used under `scope` (a queue id, or a recipient key for queue
   * creation). Atomic insert-if-absent: false if it was already recorded, i.e. a replay.
   */
  rememberNonce(scope: string, nonce: string, expiresAt: number): Promise<boolean>;

  createInvite(blob: Uint8Array, expiresAt: number): Promise<string>;
  /**
   * Returns the blob without deleting it; null if unknown, already claimed or expired at `now`. Lets
   * a client check the link's key before the one claim that uses the invite up.
   */
  peekInvite(inviteId: string, now: number): Promise<Uint8Array | null>;
  /** Returns the blob and deletes it in one step; null if unknown, already claimed or expired at `now`. */
  claimInvite(inviteId: string, now: number): Promise<Uint8Array | null>;

  /** Deletes messages, invites and nonces that expired at or before `now`, and queues idle until then. */
  expire(now: number): Promise<ExpiryCounts>;
  /**
   * Gives space freed by deletions back to the filesystem, a bounded amount per call (the sweep
   * calls it after expiry). Returns the bytes released (0 if the backend does not shrink).
   */
  compact(): Promise<number>;
  /** Bytes of stored data (for `maxDbBytes`); space freed and not yet given back is not counted. */
  storageBytes(): Promise<number>;
  /** Everything held about a queue id, send id, invite id or recipient key. */
  disclose(idOrKey: string): Promise<Disclosure>;
  close(): Promise<void>;
}
