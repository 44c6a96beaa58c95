/**
 * What a name chosen by someone else may contain. Display names (ours, a contact's intro, a group
 * member's profile) and group names are shown on one line next to messages, in lists and in
 * warnings, so a name that could break that line or reorder it would let its owner forge what the
 * reader sees: a newline plus `[10:00] Carol: …`, a carriage return, an ANSI escape sequence, a
 * right-to-left override that turns "Bob" into something else on screen.
 *
 * A safe name, after NFC normalisation and trimming, has 1 to `max` characters and none of the
 * characters below. Display and group names count characters as a person sees them (grapheme
 * clusters: "王小明" is 3, "👩‍💻" 1; text-length.ts); file names count UTF-16 code units, since file
 * systems limit a name's size, not what it looks like. None of:
 * - control characters (General_Category Cc): C0 including \n \r \t and ESC, DEL, C1 (U+0080–U+009F);
 * - format characters (Cf): bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069),
 *   bidi marks (U+200E, U+200F, U+061C), zero-width space and no-break (U+200B, U+2060, U+FEFF), soft
 *   hyphen, invisible operators, tag characters (U+E0000–U+E007F; this also refuses the rare emoji
 *   tag sequences such as the flag of England);
 * - line and paragraph separators (U+2028, U+2029) and lone surrogates;
 * - Hangul fillers (U+115F, U+1160, U+3164, U+FFA0), letters that render as nothing.
 *
 * Allowed on purpose: ZERO WIDTH JOINER (U+200D, emoji sequences such as 👩‍💻) and ZERO WIDTH
 * NON-JOINER (U+200C, needed in Persian and several Indic scripts), but only between two other
 * characters: never at either end, next to a space or doubled, where they could only disguise a
 * name. Variation selectors (emoji ❤️) are marks, not format characters, and are allowed. Look-alike
 * letters from other scripts are not refused here: names are not identities, safety numbers are.
 *
 * Message text is not restricted (people send newlines); whoever displays it must escape it.
 */
import { z } from "zod";
import { withinLength } from "./text-length.js";

/** Characters a name must not contain (see above). ZWJ and ZWNJ are checked separately. */
const UNSAFE_IN_NAME = /[\p{Cc}\p{Zl}\p{Zp}\p{Cs}\u115F\u1160\u3164\uFFA0]|(?![\u200C\u200D])\p{Cf}/u;
/** A joiner at either end, next to whitespace or next to another joiner. */
const STRAY_JOINER = /(?:^|[\s\u200C\u200D])[\u200C\u200D]|[\u200C\u200D](?:$|\s)/u;

export type NameKind = "display name" | "group name" | "file name";

/** NFC, then trimmed: the form in which a name is checked, stored and sent. */
export const normalizeName = (name: string): string => name.normalize("NFC").trim();

/** U+XXXX for a code point, as error messages show it. */
const codePointLabel = (c: string): string =>
  `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;

/** What is wrong with a name, as data (the UIs say it in words). */
export type NameIssue =
  | { issue: "length"; max: number }
  | { issue: "unsafe_character"; codePoint: string }
  | { issue: "stray_joiner" };

/** Names counted in characters a person sees; a file name is counted in code units (see above). */
const withinNameLength = (name: string, kind: NameKind, max: number): boolean =>
  kind === "file name" ? name.length <= max : withinLength(name, max);

/** What is wrong with an (already normalised) name, or undefined when it is fine. */
export function nameIssue(name: string, kind: NameKind, max: number): NameIssue | undefined {
  if (name.length === 0 || !withinNameLength(name, kind, max)) return { issue: "length", max };
  const bad = UNSAFE_IN_NAME.exec(name);
  if (bad) return { issue: "unsafe_character", codePoint: codePointLabel(bad[0]) };
  if (STRAY_JOINER.test(name)) return { issue: "stray_joiner" };
  return undefined;
}

/** A name issue as a sentence (the words of the CLI and of content rejections). */
export function describeNameIssue(kind: NameKind, issue: NameIssue): string {
  switch (issue.issue) {
    case "length":
      return `a ${kind} has 1 to ${issue.max} characters`;
    case "unsafe_character":
      return `a ${kind} must be one line without control, bidirectional or invisible formatting characters (found ${issue.codePoint})`;
    case "stray_joiner":
      return `a ${kind} may use a zero-width joiner only between two characters`;
  }
}

/**
 * Why an (already normalised) name is not acceptable, as a sentence for an error message, or
 * undefined when it is fine.
 */
export function nameProblem(name: string, kind: NameKind, max: number): string | undefined {
  const issue = nameIssue(name, kind, max);
  return issue && describeNameIssue(kind, issue);
}

/** True when `name`, normalised, is a safe name of at most `max` characters. */
export const isSafeName = (name: string, kind: NameKind, max: number): boolean =>
  nameProblem(normalizeName(name), kind, max) === undefined;

/**
 * A zod schema for a name: normalised (NFC, trimmed) and checked with `nameProblem`. Used for
 * names we are sent (intro, group profile, invite, group metadata) and for names we choose.
 */
export const nameSchema = (kind: NameKind, max: number) =>
  z
    .string()
    .normalize("NFC")
    .trim()
    .superRefine((name, ctx) => {
      const problem = nameProblem(name, kind, max);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    });
