/**
 * How content points at a message: by the content id its sender gave it (the envelope's `id`), which
 * both sides store with the message. Used by replies (`text.quote`), `reaction`, `edit` and `delete`.
 */
import { z } from "zod";
import { B64 } from "./common.js";

/** A message's content id (base64url of 16 random bytes from Parley clients; up to 64 characters). */
export const MessageId = z.string().min(1).max(64);

/** A reply's reference to the message it answers. Only the id: the quote is shown from local history. */
export const Quote = z.object({ id: MessageId });
export type Quote = z.infer<typeof Quote>;

export const MAX_MENTIONS = 32;

/**
 * "@Name" in a group message: the member it means (identity key) and where it is in the text, as
 * UTF-16 offsets [start, end). A receiver keeps only mentions whose range lies inside the text.
 */
export const Mention = z.object({
  key: B64(64),
  start: z.number().int().nonnegative(),
  end: z.number().int().positive(),
});
export type Mention = z.infer<typeof Mention>;
export const Mentions = z.array(Mention).min(1).max(MAX_MENTIONS);
