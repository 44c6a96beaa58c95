/**
 * The relay wire protocol (v1): the one contract between `@parley/server` and every client.
 * docs/protocol.md describes the flows; this file is the source of truth for the shapes.
 *
 * Identifiers are random 16-byte values in base64url (22 chars), chosen by the relay.
 * Keys and signatures are Ed25519, base64url. Message bodies are padded ciphertext (see padding.ts).
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { z } from "zod";
import { toBase64Url } from "../encoding/base64url.js";
import { utf8 } from "../encoding/bytes.js";

export const PROTOCOL_VERSION = "parley-relay-v1";

/** How far a signed command's timestamp may be from the relay's clock. */
export const COMMAND_CLOCK_SKEW_MS = 5 * 60 * 1000;
export const INVITE_MAX_BYTES = 64 * 1024;

const b64u = (min: number, max: number) =>
  z
    .string()
    .min(min)
    .max(max)
    .regex(/^[A-Za-z0-9_-]*$/, "must be base64url");

export const Id = b64u(22, 22);
export const PublicKey = b64u(43, 43); // 32 bytes
export const Signature = b64u(86, 86); // 64 bytes
export const Nonce = b64u(22, 22); // 16 bytes

/** Recipient commands: only the holder of the queue's recipient key may run them. */
export const RecipientCommandName = z.enum(["sub", "fetch", "ack", "del"]);
export type RecipientCommandName = z.infer<typeof RecipientCommandName>;

export const SignedFields = z.object({
  ts: z.number().int().nonnegative(),
  nonce: Nonce,
  sig: Signature,
});

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
});
export type RecipientCommand = z.infer<typeof RecipientCommand>;

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

/** Frames a client sends on the WebSocket (`/v1/ws`). `id` pairs a reply with its request. */
export const ClientFrame = RecipientCommand.extend({ id: z.number().int().nonnegative() });
export type ClientFrame = z.infer<typeof ClientFrame>;

/** Frames the relay sends on the WebSocket. */
export const ServerFrame = z.discriminatedUnion("type", [
  /** `cursorFound` answers a `sub` or `fetch` that carried a cursor (see RecipientCommand). */
  z.object({ type: z.literal("ok"), id: z.number().int(), cursorFound: z.boolean().optional() }),
  z.object({ type: z.literal("err"), id: z.number().int().nullable(), code: z.string(), error: z.string() }),
  z.object({ type: z.literal("msg"), queueId: Id, msgId: Id, body: z.string() }),
]);
export type ServerFrame = z.infer<typeof ServerFrame>;

/**
 * What a `pow_required` refusal carries (and `GET /v1/pow` returns): the leading zero bits a stamp
 * needs and the relay's current challenge (absent when `bits` is 0: no stamp needed).
 * See protocol/proof-of-work.ts.
 */
export const PowParams = z.object({
  bits: z.number().int().min(0).max(64),
  challenge: z.string().min(1).max(128).optional(),
});
export type PowParams = z.infer<typeof PowParams>;

/** Every error reply. `pow` comes with `pow_required` only. */
export const ErrorBody = z.object({ code: z.string(), error: z.string(), pow: PowParams.optional() });
export type ErrorBody = z.infer<typeof ErrorBody>;

/** Error codes, shared by HTTP bodies and WebSocket `err` frames. */
export const ErrorCodes = {
  badRequest: "bad_request",
  badSignature: "bad_signature",
  replay: "replay",
  clockSkew: "clock_skew",
  unknownQueue: "unknown_queue",
  unknownMessage: "unknown_message",
  tooLarge: "too_large",
  badPadding: "bad_padding",
  inviteGone: "invite_gone",
  notFound: "not_found",
  internal: "internal",
  /** The queue holds as many messages or bytes as the relay allows one queue: the recipient must drain it. */
  queueFull: "queue_full",
  /** The relay's disk (or database) is at its limit: it takes no new data until space is freed. */
  storageFull: "storage_full",
  /** Queue and invite creation need a proof-of-work stamp for the challenge in the reply. */
  powRequired: "pow_required",
  /** No room for the reply right now, too many commands on this connection, or shutting down: retry later. */
  busy: "busy",
  /** The request was not received in time. */
  timeout: "timeout",
  /** A WebSocket from a web page of another origin. */
  forbidden: "forbidden",
} as const;
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** The HTTP status that goes with each error code (WebSocket `err` frames carry the code only). */
export const ErrorStatus: Readonly<Record<ErrorCode, number>> = {
  bad_request: 400,
  bad_padding: 400,
  bad_signature: 401,
  clock_skew: 401,
  unknown_queue: 404,
  unknown_message: 404,
  invite_gone: 404,
  not_found: 404,
  forbidden: 403,
  timeout: 408,
  replay: 409,
  too_large: 413,
  pow_required: 429,
  internal: 500,
  busy: 503,
  queue_full: 507,
  storage_full: 507,
};

/**
 * The bytes a recipient signs. The command, queue, message, time and nonce are all bound, so a
 * captured signature cannot be reused for another command or queue, or replayed later.
 */
export function recipientCommandBytes(c: {
  cmd: RecipientCommandName;
  queueId: string;
  msgId?: string | undefined;
  ts: number;
  nonce: string;
}): Uint8Array {
  return utf8(`${PROTOCOL_VERSION}|${c.cmd}|${c.queueId}|${c.msgId ?? ""}|${c.ts}|${c.nonce}`);
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
