/**
 * `reaction`, 1:1 and group: one emoji from the sender on one message, replacing the sender's
 * earlier reaction on it; `emoji: null` takes it away.
 *
 * A reaction is shown next to a message on one line (the CLI prints it), so it is held to far
 * narrower rules than text: exactly one grapheme cluster, at most MAX_REACTION_LENGTH UTF-16 units,
 * made only of emoji code points and the pieces emoji sequences are built from (ZERO WIDTH JOINER,
 * variation selector 16, skin tones, the keycap mark, regional indicators, tag characters of
 * subdivision flags), with at least one pictograph, regional indicator or keycap in it. No letters,
 * no controls, no bidi characters, no newline: nothing that could forge a line of text.
 */
import { z } from "zod";
import { MessageId } from "./message-ref.js";

export const MAX_REACTION_LENGTH = 32;

const EMOJI_PARTS = /^(?:\p{Emoji}|\p{Emoji_Component}|\u200D|\uFE0F|\u20E3|[\u{E0020}-\u{E007F}])+$/u;
const EMOJI_CORE = /\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20E3/u;
const segmenter = new Intl.Segmenter("en", { granularity: "grapheme" });

/** Whether `s` is one emoji a reaction may carry (see above). */
export function isReactionEmoji(s: string): boolean {
  if (s.length === 0 || s.length > MAX_REACTION_LENGTH) return false;
  if (!EMOJI_PARTS.test(s) || !EMOJI_CORE.test(s)) return false;
  let graphemes = 0;
  for (const _ of segmenter.segment(s)) if (++graphemes > 1) return false;
  return graphemes === 1;
}

export const ReactionEmoji = z.string().refine(isReactionEmoji, { message: "a reaction is one emoji" });

export const ReactionBody = z.object({
  type: z.literal("reaction"),
  target: MessageId,
  emoji: ReactionEmoji.nullable(),
});
export type ReactionBody = z.infer<typeof ReactionBody>;
