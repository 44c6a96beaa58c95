/** Field schemas shared by several message kinds. */
import { z } from "zod";
import { nameSchema } from "../messaging/text-safety.js";

export const MAX_NAME_LENGTH = 64;

/** One line, no control, bidi or invisible formatting characters: see text-safety.ts. */
export const DisplayName = nameSchema("display name", MAX_NAME_LENGTH);

/** Where to send to a queue: its relay and its public send id. */
export const SendAddress = z.object({ relay: z.string().url().max(2048), sendId: z.string().min(1).max(64) });
export type SendAddress = z.infer<typeof SendAddress>;

/** A group queue's credentials, shared with members inside the encrypted group. */
export const GroupQueue = z.object({
  relay: z.string().url().max(2048),
  queueId: z.string().length(22),
  sendId: z.string().length(22),
  recipientKey: z.string().length(43),
  recipientSecretKey: z.string().length(43),
  broadcast: z.literal(true),
});
export type GroupQueue = z.infer<typeof GroupQueue>;

/** base64url, 1 to `max` characters. */
export const B64 = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[A-Za-z0-9_-]*$/);
