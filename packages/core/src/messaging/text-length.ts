/**
 * How long a text is, as the person who writes or reads it counts: in characters they see
 * (grapheme clusters), not UTF-16 code units or bytes. "中文" is two, "👍🏽" one (four code units),
 * "👨‍👩‍👧" one (eight). A Chinese writer and an English one get the same number of characters, and
 * an emoji costs what it looks like.
 *
 * Counted with one linear regular expression, not Intl.Segmenter: V8's segment iterator is
 * quadratic in the text's length (Node 20 on the 2-core test machine: 16 000 "👩‍💻" took 16 s, so a
 * 65 536-character message minutes), and every receiver counts every message a stranger may send. The expression follows UAX #29's
 * extended grapheme clusters for what Parley's users write — Han, Latin with combining marks, Hangul
 * syllables, Thai, and emoji: skin tones, ZWJ sequences, flags, keycaps, tag sequences — and counts
 * a little higher only where UAX #29 joins an Indic conjunct (नमस्ते: 4, not 3) or decomposed Hangul
 * jamo. It depends on no locale or ICU version, so a sender and a receiver always agree.
 *
 * A character can carry any number of combining marks, so a limit in characters alone would not
 * bound what a message costs to seal, relay and store. Each limit of `max` characters therefore also
 * has a ceiling of UNITS_PER_CHARACTER × `max` code units: far above what any script or emoji needs
 * on average (a family emoji is 11 units, a flag tag sequence 14), and with the largest limit (text,
 * 65 536) still a few MB, under the relay's 8 MiB message limit. Reaching it is "size", not
 * "characters", so a UI can say which.
 *
 * Senders and receivers apply the same rule (content/*.ts schemas, client checks before sealing), so
 * what a sender lets through no receiver drops.
 */
import { z } from "zod";

/**
 * One character as a person sees it: CR LF; a pair of regional indicators (a flag); else any code
 * point with what extends it — combining marks, emoji skin tones, ZWNJ, tag characters (🏴󠁧󠁢󠁥󠁮󠁧󠁿), and
 * a ZWJ with the pictograph it joins (👩‍💻).
 */
const CHARACTER =
  /\r\n|\p{RI}\p{RI}|[\s\S](?:[\p{M}\p{Emoji_Modifier}\u200C\u{E0020}-\u{E007F}]|\u200D\p{Extended_Pictographic}?)*/gu;

/** The number of characters a person sees (see above). Linear in the text's length. */
export function visibleLength(text: string): number {
  let n = 0;
  const re = new RegExp(CHARACTER);
  while (re.exec(text)) n++;
  return n;
}

/** Code units a limit of one character allows, on average (see above). */
export const UNITS_PER_CHARACTER = 16;

/** Why a text is over a limit of `max` characters: too many characters, or too large a text. */
export interface LengthIssue {
  reason: "characters" | "size";
  max: number;
  /** Its length in characters a person sees. */
  length: number;
}

/** What is wrong with `text` for a limit of `max` characters, or undefined when it is within it. */
export function lengthIssue(text: string, max: number): LengthIssue | undefined {
  // Graphemes never outnumber code units: a text that short is within the limit, unsegmented.
  if (text.length <= max) return undefined;
  if (text.length > max * UNITS_PER_CHARACTER) return { reason: "size", max, length: visibleLength(text) };
  const length = visibleLength(text);
  return length > max ? { reason: "characters", max, length } : undefined;
}

/** True when `text` is within a limit of `max` characters (an oversized text is never segmented). */
export const withinLength = (text: string, max: number): boolean =>
  text.length <= max || (text.length <= max * UNITS_PER_CHARACTER && visibleLength(text) <= max);

/**
 * A zod schema for text of `min` (0 or 1) to `max` characters (`withinLength`).
 */
export const textSchema = (min: 0 | 1, max: number) =>
  z
    .string()
    .min(min)
    .refine((text) => withinLength(text, max), { message: `at most ${max} characters` });
