/**
 * The relay wire protocol (v1): the one contract between `@parley/server` and every client.
 * docs/protocol.md describes the flows; this file is the source of truth for the commands and frames.
 *
 * Identifiers and keys: ids.ts. Refusals (`{ code, error }`): errors.ts. Message bodies are padded
 * ciphertext (padding.ts). Queue and invite creation may need a proof of work (proof-of-work.ts).
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { z } from "zod";
import { toBase64Url } from "./encoding/base64url.js";
import { utf8 } from "./encoding/bytes.js";
import { Id, Nonce, PublicKey, Signature } from "./ids.js";

export const PROTOCOL_VERSION = "parley-relay-v1";

/** How far a signed command's timestamp may be from the relay's clock. */
export const COMMAND_CLOCK_SKEW_MS = 5 * 60 * 1000;
export const INVITE_MAX_BYTES = 64 * 1024;

/** Recipient commands: only the holder of the queue's recipient key may run them. */
export const RecipientCommandName = z.enum(["sub", "fetch", "ack", "del"]);
export type RecipientCommandName = z.infer<typeof RecipientCommandName>;

export const SignedFields = z.object({
  ts: z.number().int().nonnegative(),
  nonce: Nonce,
  sig: Signature,
});

/**
 * The most messages one `ack` may name: the most a subscription pushes before it waits for acks
 * (the relay's in-flight cap), so one frame can always acknowledge everything a recipient holds.
 */
export const ACK_BATCH_LIMIT = 128;

/**
 * The messages of one batched ack (`msgIds`): 1 to ACK_BATCH_LIMIT ids, none twice. The relay
 * deletes those the queue holds and names the others in its reply (`unknown`); ids of another
 * queue are never touched. A list too long, empty, or with a repeated id is refused whole
 * (`bad_request`), nothing deleted.
 */
export const AckIds = z
  .array(Id)
  .min(1)
  .max(ACK_BATCH_LIMIT)
  .refine((ids) => new Set(ids).size === ids.length, { message: "an id is listed twice" });
export type AckIds = z.infer<typeof AckIds>;

/**
 * `msgId` is the message to acknowledge (`ack`, required), or a cursor (`fetch`, `sub`, optional):
 * deliver only messages strictly after that one in queue order. A cursor the queue no longer holds
 * (expired, or never there) delivers everything still held, and the reply says `cursorFound: false`.
 * On a unicast queue `sub` takes no cursor (unacknowledged messages are always delivered again).
 */
export const RecipientCommand = SignedFields.extend({
  cmd: RecipientCommandName,
  queueId: Id,
  msgId: Id.optional(),
  /** `ack` only, instead of `msgId`: a batch of messages acknowledged under one signature (AckIds). */
  msgIds: AckIds.optional(),
});
export type RecipientCommand = z.infer<typeof RecipientCommand>;

/**
 * A _session ack_ (WebSocket only, docs/protocol.md): `{"cmd":"ack","id","queueId","msgIds"}`, not
 * signed. The relay takes it only on a connection that subscribed `queueId` with a signed `sub`
 * (which proved the key, fresh and not replayed) and still holds that subscription; anywhere else it
 * is refused (`bad_signature`) and deletes nothing. The connection is the proof: an ack costs the
 * client no signature and the relay no verification.
 */
export const SessionAckFrame = z
  .object({ cmd: z.literal("ack"), id: z.number().int().nonnegative(), queueId: Id, msgIds: AckIds })
  .strict();
export type SessionAckFrame = z.infer<typeof SessionAckFrame>;

/**
 * Creating a queue proves possession of the recipient key by signing with it.
 *
 * `broadcast: true` makes a _broadcast_ queue (a group's one queue, read by every member with the
 * same, shared recipient key): messages are stored once, never deleted by `ack` (refused), only by
 * TTL expiry or by deleting the queue; readers keep their place with a cursor. The mode is bound by
 * the signature (see createQueueBytes). Absent or false: an ordinary unicast queue.
 *
 * `rendezvous: true` (with `broadcast: true`) asks for the broadcast queue whose ids follow from
 * the recipient key alone (rendezvousIds): created on the first request, returned as it is on every
 * later one. Members who derive the same key from their group's secrets (a group whose queue
 * vanished) thus meet on one queue without talking to each other first.
 */
export const CreateQueueRequest = SignedFields.extend({
  recipientKey: PublicKey,
  broadcast: z.boolean().optional(),
  rendezvous: z.literal(true).optional(),
});
export type CreateQueueRequest = z.infer<typeof CreateQueueRequest>;
/** `broadcast: true` is echoed for a broadcast queue, absent for a unicast one. */
export const CreateQueueResponse = z.object({
  queueId: Id,
  sendId: Id,
  broadcast: z.literal(true).optional(),
});
export type CreateQueueResponse = z.infer<typeof CreateQueueResponse>;

export const CreateInviteResponse = z.object({ inviteId: Id });
export const SendResponse = z.object({ msgId: Id });
/** The reply to an HTTP `ack`; `unknown` as in the WebSocket's `ok` (batched acks only). */
export const AckResponse = z.object({
  ok: z.literal(true),
  unknown: z.array(Id).max(ACK_BATCH_LIMIT).optional(),
});
export type AckResponse = z.infer<typeof AckResponse>;

/**
 * A batch send (`POST /v1/send-batch`, docs/protocol.md): several envelopes in one request, a
 * headed frame whose head lists each one's send id and size, the envelopes back to back after it.
 * The relay stores them in this order, each as `POST /v1/send/<sendId>` would, and stops at the
 * first it refuses: the reply's `msgIds` are those stored (a prefix of the batch), and `refused`
 * says why the next one was not (nothing after it was tried).
 */
export const SEND_BATCH_LIMIT = 100;
export const SendBatchHead = z
  .object({
    messages: z
      .array(z.object({ sendId: Id, size: z.number().int().positive() }).strict())
      .min(1)
      .max(SEND_BATCH_LIMIT),
  })
  .strict();
export type SendBatchHead = z.infer<typeof SendBatchHead>;
export const SendBatchResponse = z.object({
  msgIds: z.array(Id).max(SEND_BATCH_LIMIT),
  /** The refusal of envelope `msgIds.length`, with the HTTP status a single send would have had. */
  refused: z
    .object({ code: z.string(), error: z.string(), status: z.number().int().min(400).max(599) })
    .optional(),
});
export type SendBatchResponse = z.infer<typeof SendBatchResponse>;

/** Splits a batch send's body into its envelopes; null unless the head is valid and the sizes add up. */
export function splitSendBatch(frame: Uint8Array): { sendId: string; body: Uint8Array }[] | null {
  const split = splitHeadedFrame(frame);
  const head = split && SendBatchHead.safeParse(split.head);
  if (!split || !head?.success) return null;
  const out: { sendId: string; body: Uint8Array }[] = [];
  let at = 0;
  for (const m of head.data.messages) {
    if (at + m.size > split.rest.length) return null;
    out.push({ sendId: m.sendId, body: split.rest.subarray(at, at + m.size) });
    at += m.size;
  }
  return at === split.rest.length ? out : null;
}

/** The body of a batch send: the head, then the envelopes. */
export function sendBatchFrame(messages: readonly { sendId: string; body: Uint8Array }[]): Uint8Array {
  const prefix = headedFramePrefix({
    messages: messages.map((m) => ({ sendId: m.sendId, size: m.body.length })),
  } satisfies SendBatchHead);
  const out = new Uint8Array(prefix.length + messages.reduce((n, m) => n + m.body.length, 0));
  out.set(prefix, 0);
  let at = prefix.length;
  for (const m of messages) {
    out.set(m.body, at);
    at += m.body.length;
  }
  return out;
}

export const DeliveredMessage = z.object({ msgId: Id, body: z.string() });
export type DeliveredMessage = z.infer<typeof DeliveredMessage>;
/**
 * A fetch returns at most FETCH_LIMIT messages and about FETCH_MAX_BYTES of bodies (always at least
 * one message); fetch again for the rest. `cursorFound` is present when the fetch carried a cursor.
 */
export const FetchResponse = z.object({
  messages: z.array(DeliveredMessage),
  cursorFound: z.boolean().optional(),
});
export type FetchResponse = z.infer<typeof FetchResponse>;

/** docs/protocol.md: the most messages one fetch returns. */
export const FETCH_LIMIT = 100;
/** The relay's default cap on the bodies of one fetch reply (a relay may be configured otherwise). */
export const FETCH_MAX_BYTES = 16 * 1024 * 1024;

/**
 * Message bodies travel as bytes, never as base64 (docs/protocol.md, "Bodies on the wire"): base64
 * is a third more bytes, and strings the relay would have to build and then collect, which held its
 * one thread for tens of milliseconds at a time while a client fetched 8 MiB messages in a loop
 * (issue 7, abuse bench `big-fetches`). A fetch reply and a pushed message are each a *headed
 * frame*: a 4-byte big-endian length, that many bytes of JSON (the head), then the bodies back to
 * back, in the order and with the sizes the head gives.
 */
export const HEAD_MAX_BYTES = 64 * 1024;

/** The media type of a fetch reply (a headed frame whose head is a FetchHead). */
export const FETCH_BINARY_TYPE = "application/vnd.parley.fetch";
export const FetchHead = z.object({
  messages: z.array(z.object({ msgId: Id, size: z.number().int().nonnegative() })).max(FETCH_LIMIT),
  cursorFound: z.boolean().optional(),
});
export type FetchHead = z.infer<typeof FetchHead>;

/** A message pushed on the WebSocket: a binary frame, a headed frame whose one body follows this head. */
export const PushHead = z.object({ type: z.literal("msg"), queueId: Id, msgId: Id });
export type PushHead = z.infer<typeof PushHead>;

/**
 * Splits a headed frame into its head (parsed JSON, not yet checked against a schema) and the bytes
 * after it; null when the frame is cut short, its head is too long, or the head is not JSON.
 */
export function splitHeadedFrame(frame: Uint8Array): { head: unknown; rest: Uint8Array } | null {
  if (frame.length < 4) return null;
  const length = new DataView(frame.buffer, frame.byteOffset, 4).getUint32(0);
  if (length > HEAD_MAX_BYTES || 4 + length > frame.length) return null;
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(frame.subarray(4, 4 + length));
    return { head: JSON.parse(text), rest: frame.subarray(4 + length) };
  } catch {
    return null;
  }
}

/** The first bytes of a headed frame: the head's length and the head. */
export function headedFramePrefix(head: unknown): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(head));
  const out = new Uint8Array(4 + json.length);
  new DataView(out.buffer).setUint32(0, json.length);
  out.set(json, 4);
  return out;
}

/** Frames a client sends on the WebSocket (`/v1/ws`). `id` pairs a reply with its request. */
export const ClientFrame = RecipientCommand.extend({ id: z.number().int().nonnegative() });
export type ClientFrame = z.infer<typeof ClientFrame>;

/**
 * `{"cmd":"ping","id"}`: answered `{"type":"ok","id"}` at once, unsigned and about no queue. A client
 * sends it to learn that its connection still carries traffic: a link cut without a word (a node cut
 * off from the network) leaves a TCP connection open for many minutes, and browsers cannot send
 * WebSocket pings. A relay older than this answers `err` `bad_request` with the same id: a reply all
 * the same.
 */
export const PingFrame = z.object({ cmd: z.literal("ping"), id: z.number().int().nonnegative() }).strict();
export type PingFrame = z.infer<typeof PingFrame>;

/** Frames the relay sends on the WebSocket. */
export const ServerFrame = z.discriminatedUnion("type", [
  /** `cursorFound` answers a `sub` or `fetch` that carried a cursor (see RecipientCommand). */
  /**
   * `unknown` answers a batched ack (`msgIds`): the ids the queue did not hold (already acknowledged,
   * expired, another queue's, never there); absent when it held them all.
   */
  z.object({
    type: z.literal("ok"),
    id: z.number().int(),
    cursorFound: z.boolean().optional(),
    unknown: z.array(Id).max(ACK_BATCH_LIMIT).optional(),
  }),
  z.object({ type: z.literal("err"), id: z.number().int().nullable(), code: z.string(), error: z.string() }),
  z.object({ type: z.literal("msg"), queueId: Id, msgId: Id, body: z.string() }),
]);
export type ServerFrame = z.infer<typeof ServerFrame>;

/**
 * The bytes a recipient signs. The command, queue, message, time and nonce are all bound, so a
 * captured signature cannot be reused for another command or queue, or replayed later.
 */
export function recipientCommandBytes(c: {
  cmd: RecipientCommandName;
  queueId: string;
  msgId?: string | undefined;
  msgIds?: readonly string[] | undefined;
  ts: number;
  nonce: string;
}): Uint8Array {
  // A batched ack signs its ids joined by "," in the message slot (ids are base64url: no commas), so
  // no id can be added, dropped or swapped without breaking the signature. One id alone signs as
  // the single `msgId` would: both mean "delete this message".
  const msg = c.msgIds !== undefined ? c.msgIds.join(",") : (c.msgId ?? "");
  return utf8(`${PROTOCOL_VERSION}|${c.cmd}|${c.queueId}|${msg}|${c.ts}|${c.nonce}`);
}

/**
 * The bytes that create a queue: `parley-relay-v1|new|<recipientKey>|<mode>|<ts>|<nonce>`, where the
 * mode is `broadcast` for a broadcast queue and empty for a unicast one.
 */
export function createQueueBytes(c: {
  recipientKey: string;
  broadcast?: boolean | undefined;
  rendezvous?: true | undefined;
  ts: number;
  nonce: string;
}): Uint8Array {
  const mode = c.broadcast === true ? (c.rendezvous === true ? "rendezvous" : "broadcast") : "";
  return utf8(`${PROTOCOL_VERSION}|new|${c.recipientKey}|${mode}|${c.ts}|${c.nonce}`);
}

/**
 * The ids of the rendezvous queue of a recipient key: each the first 16 bytes of
 * SHA-256("parley-v1|rendezvous-queue|" ‖ key) or SHA-256("parley-v1|rendezvous-send|" ‖ key), in
 * base64url. Whoever holds the key's secret half can create (or find) the queue; whoever knows only
 * the ids learns nothing of the key.
 */
export function rendezvousIds(recipientKey: string): { queueId: string; sendId: string } {
  const id = (what: string) =>
    toBase64Url(sha256(utf8(`parley-v1|rendezvous-${what}|${recipientKey}`)).slice(0, 16));
  return { queueId: id("queue"), sendId: id("send") };
}
