/**
 * A stored message carried by a network bus with its announcement, so that a caught-up subscriber
 * on any node pushes it without reading it back from the store (on PostgreSQL a read per delivery:
 * `fetch_pending`, the backends' costliest statement per message in the cluster bench).
 *
 *   payload = u32 head length ‖ head (JSON {m: msgId, s: seq, p: prevSeq, e: expiresAt}) ‖ body
 *
 * (the relay's headed frame, docs/protocol.md). An empty payload is a bare announcement, "queue X
 * has something new", as before. Only small bodies travel (HANDOVER_MAX_BYTES): a larger one is
 * announced bare and read from the store, so NATS never carries more than a text message's worth
 * per publish. The body is the same padded ciphertext the store holds.
 *
 * Between nodes announcements of one queue can arrive out of order (two nodes commit one after the
 * other and publish at once), which is why the message carries `prevSeq`: a subscriber takes it only
 * when that is the position of the last message it pushed (Subscription.announced), else it reads.
 */
import { headedFramePrefix, splitHeadedFrame } from "@parley/protocol";
import type { StoredMessage } from "../store/store.js";

/** Bodies up to this size travel with their announcement; a padded text message is 512 B–2 KiB. */
export const HANDOVER_MAX_BYTES = 16 * 1024;

const EMPTY = new Uint8Array(0);

/** The payload announcing `message` (its body copied in), or an empty one (a bare announcement). */
export function encodeHandover(message: StoredMessage | undefined): Uint8Array {
  if (message?.prevSeq === undefined || message.body.length > HANDOVER_MAX_BYTES) return EMPTY;
  const head = headedFramePrefix({
    m: message.msgId,
    s: message.seq,
    p: message.prevSeq,
    e: message.expiresAt,
  });
  const out = new Uint8Array(head.length + message.body.length);
  out.set(head, 0);
  out.set(message.body, head.length);
  return out;
}

const isPosition = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v);

/**
 * The message a payload carries; undefined for a bare announcement, and for anything malformed (a
 * newer node's format, say): the subscriber then reads the store, as for a bare one.
 */
export function decodeHandover(payload: Uint8Array): StoredMessage | undefined {
  if (payload.length === 0) return undefined;
  const frame = splitHeadedFrame(payload);
  if (!frame || typeof frame.head !== "object" || frame.head === null) return undefined;
  const { m, s, p, e } = frame.head as Record<string, unknown>;
  if (typeof m !== "string" || !isPosition(s) || !isPosition(p) || !isPosition(e) || p >= s) return undefined;
  if (frame.rest.length > HANDOVER_MAX_BYTES) return undefined;
  return { msgId: m, seq: s, prevSeq: p, expiresAt: e, body: frame.rest };
}
