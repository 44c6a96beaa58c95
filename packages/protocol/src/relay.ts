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
