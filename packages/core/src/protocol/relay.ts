/**
 * The relay wire protocol (v1): the one contract between `@parley/server` and every client.
 * docs/protocol.md describes the flows; this file is the source of truth for the shapes.
 *
 * Identifiers are random 16-byte values in base64url (22 chars), chosen by the relay.
 * Keys and signatures are Ed25519, base64url. Message bodies are padded ciphertext (see padding.ts).
 */
import { z } from "zod";
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

export const RecipientCommand = SignedFields.extend({
  cmd: RecipientCommandName,
  queueId: Id,
  msgId: Id.optional(),
});
export type RecipientCommand = z.infer<typeof RecipientCommand>;

/** Creating a queue proves possession of the recipient key by signing with it. */
export const CreateQueueRequest = SignedFields.extend({ recipientKey: PublicKey });
export type CreateQueueRequest = z.infer<typeof CreateQueueRequest>;
export const CreateQueueResponse = z.object({ queueId: Id, sendId: Id });
export type CreateQueueResponse = z.infer<typeof CreateQueueResponse>;

export const CreateInviteResponse = z.object({ inviteId: Id });

export const DeliveredMessage = z.object({ msgId: Id, body: z.string() });
export type DeliveredMessage = z.infer<typeof DeliveredMessage>;
export const FetchResponse = z.object({ messages: z.array(DeliveredMessage) });

/** Frames a client sends on the WebSocket (`/v1/ws`). `id` pairs a reply with its request. */
export const ClientFrame = RecipientCommand.extend({ id: z.number().int().nonnegative() });
export type ClientFrame = z.infer<typeof ClientFrame>;

/** Frames the relay sends on the WebSocket. */
export const ServerFrame = z.discriminatedUnion("type", [
  z.object({ type: z.literal("ok"), id: z.number().int() }),
  z.object({ type: z.literal("err"), id: z.number().int().nullable(), code: z.string(), error: z.string() }),
  z.object({ type: z.literal("msg"), queueId: Id, msgId: Id, body: z.string() }),
]);
export type ServerFrame = z.infer<typeof ServerFrame>;

export const ErrorBody = z.object({ code: z.string(), error: z.string() });

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
  internal: "internal",
} as const;

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

export function createQueueBytes(c: { recipientKey: string; ts: number; nonce: string }): Uint8Array {
  return utf8(`${PROTOCOL_VERSION}|new|${c.recipientKey}||${c.ts}|${c.nonce}`);
}
