/**
 * `text`: a chat message, in a 1:1 conversation or a group. A reply carries `quote` (the message it
 * answers); a group message naming members carries `mentions`.
 */
import { z } from "zod";
import { textSchema } from "../messaging/text-length.js";
import { Mentions, Quote } from "./message-ref.js";

/** In characters a person sees (messaging/text-length.ts). */
export const MAX_TEXT_LENGTH = 64 * 1024;

export const TextBody = z.object({
  type: z.literal("text"),
  text: textSchema(1, MAX_TEXT_LENGTH),
  quote: Quote.optional(),
  mentions: Mentions.optional(),
});
export type TextBody = z.infer<typeof TextBody>;
