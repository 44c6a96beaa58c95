/**
 * The rows of the relay's SQLite tables as the store reads them, and their conversion to the
 * Store's records; and the per-queue cap rule as it applies to a row.
 */
import { randomPooled } from "../../ids.js";
import {
  capsFor,
  type EnqueueResult,
  type NonceRecord,
  type QueueLimits,
  type QueueRecord,
  type StoredMessage,
} from "../store.js";

export interface QueueRow {
  queue_id: string;
  send_id: string;
  recipient_key: string;
  idle_until: number;
  broadcast: number;
  last_seq: number;
}

export interface MessageRow {
  msg_id: string;
  body: Buffer;
  body_file: string | null;
  size: number;
  expires_at: number;
  seq: number;
}

export const MESSAGE_COLUMNS = "msg_id, body, body_file, size, expires_at, seq";

export const toQueue = (r: QueueRow): QueueRecord => ({
  queueId: r.queue_id,
  sendId: r.send_id,
  recipientKey: r.recipient_key,
  idleUntil: r.idle_until,
  broadcast: r.broadcast === 1,
});

export const toMessage = (r: MessageRow, body: Uint8Array): StoredMessage => ({
  msgId: r.msg_id,
  body,
  expiresAt: r.expires_at,
  seq: r.seq,
});

export const EMPTY = Buffer.alloc(0);

/** A deleted message's body file (null: its body was inline) and size. */
export interface FileRow {
  name: string | null;
  size: number;
}

export interface SendQueueRow {
  queue_id: string;
  last_seq: number;
  msg_count: number;
  msg_bytes: number;
  broadcast: number;
}

/** Why a body of `size` bytes cannot go into `queue` now (missing, or past a cap); undefined: it can. */
export function refusalFor(
  queue: SendQueueRow | undefined,
  size: number,
  limits: QueueLimits | undefined,
): Exclude<EnqueueResult, { status: "stored" }> | undefined {
  if (!queue) return { status: "unknown_queue" };
  if (!limits) return undefined;
  const usage = { messages: queue.msg_count, bytes: queue.msg_bytes };
  const { maxMessages, maxBytes } = capsFor(limits, queue.broadcast === 1);
  if (queue.msg_count + 1 > maxMessages)
    return { status: "queue_full", queueId: queue.queue_id, limit: "messages", usage };
  if (queue.msg_bytes + size > maxBytes)
    return { status: "queue_full", queueId: queue.queue_id, limit: "bytes", usage };
  return undefined;
}

export const toNonce = (r: { scope: string; nonce: string; expires_at: number }): NonceRecord => ({
  scope: r.scope,
  nonce: r.nonce,
  expiresAt: r.expires_at,
});

/** A random positive 63-bit rowid: see the note in migrations/m0001_initial.ts. */
export const randomRowid = (): bigint => randomPooled(8).readBigUInt64BE() >> 1n;

export const isRowidClash = (e: unknown): boolean =>
  (e as { code?: string }).code === "SQLITE_CONSTRAINT_PRIMARYKEY";
