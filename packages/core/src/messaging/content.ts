/**
 * Parley's message schema: what travels inside MLS application messages. A contact is not trusted
 * to send well-formed content, so every decrypted payload is parsed here before anything uses it.
 */
import { z } from "zod";
import { fromUtf8, utf8 } from "../encoding/bytes.js";
import { nameSchema } from "./text-safety.js";

export const MAX_TEXT_LENGTH = 64 * 1024;
export const MAX_NAME_LENGTH = 64;

/** One line, no control, bidi or invisible formatting characters: see text-safety.ts. */
const DisplayName = nameSchema("display name", MAX_NAME_LENGTH);
const SendAddress = z.object({ relay: z.string().url().max(2048), sendId: z.string().min(1).max(64) });
export type SendAddress = z.infer<typeof SendAddress>;

/** A group queue's credentials, shared with members inside the encrypted group. */
const GroupQueue = z.object({
  relay: z.string().url().max(2048),
  queueId: z.string().length(22),
  sendId: z.string().length(22),
  recipientKey: z.string().length(43),
  recipientSecretKey: z.string().length(43),
  broadcast: z.literal(true),
});
export type GroupQueue = z.infer<typeof GroupQueue>;

const B64 = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[A-Za-z0-9_-]*$/);

export const Body = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text"), text: z.string().min(1).max(MAX_TEXT_LENGTH) }),
  /** First message of a new 1:1 conversation: who I say I am and where to answer me. */
  z.object({ type: z.literal("intro"), name: DisplayName, replyTo: SendAddress }),
  /** 1:1 only: the sender's receive queue was renewed (the old one vanished): answer here from now on. */
  z.object({ type: z.literal("reply-to"), replyTo: SendAddress }),
  /** Tells the peer its messages arrived (the "delivered" tick). */
  z.object({ type: z.literal("receipt"), ids: z.array(z.string().max(64)).min(1).max(256) }),
  /** 1:1 only: KeyPackages the peer may use to add us to groups (each is used once). */
  z.object({
    type: z.literal("key-packages"),
    keyPackages: z
      .array(B64(16 * 1024))
      .min(1)
      .max(10),
  }),
  /**
   * 1:1 only: "you were added to a group". The Welcome (ratchet tree inside its encrypted GroupInfo),
   * which of our KeyPackages it was made for, the group's queue, and where in it our membership begins.
   */
  z.object({
    type: z.literal("group-invite"),
    welcome: B64(12 * 1024 * 1024),
    keyPackageRef: B64(64),
    queue: GroupQueue,
    cursor: z.string().length(22).optional(),
  }),
  /** Group only: how a member wants to be called in this group. */
  z.object({ type: z.literal("profile"), name: DisplayName }),
  /** Group only: the group moved to a new queue (after a removal, so the removed cannot read on). */
  z.object({ type: z.literal("group-queue"), queue: GroupQueue }),
  /** Group only: the sender leaves; an admin's client removes them from the group. */
  z.object({ type: z.literal("group-leave") }),
]);
export type Body = z.infer<typeof Body>;

export const Content = z.object({
  v: z.literal(1),
  id: z.string().min(1).max(64),
  sentAt: z.number().int().nonnegative(),
  body: Body,
});
export type Content = z.infer<typeof Content>;

export class ContentError extends Error {
  override name = "ContentError";
}

export const encodeContent = (content: Content): Uint8Array => utf8(JSON.stringify(content));

export function decodeContent(bytes: Uint8Array): Content {
  let value: unknown;
  try {
    value = JSON.parse(fromUtf8(bytes));
  } catch {
    throw new ContentError("message content is not valid UTF-8 JSON");
  }
  const parsed = Content.safeParse(value);
  if (!parsed.success) throw new ContentError(`message content rejected: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

export { DisplayName, SendAddress as SendAddressSchema };
