/**
 * Other people's text, made safe for a terminal. Message text, names, group names and rejection
 * reasons come from contacts and group members; printed raw, a newline plus `[10:00] Carol: …`
 * forges a message from Carol, a carriage return overwrites the line, and ESC, CSI or OSC sequences
 * clear the screen, write the clipboard (OSC 52) or plant hyperlinks (OSC 8).
 *
 * Every character that can move the cursor, start an escape sequence, reorder the line or hide text
 * is shown as a visible escape instead: C0 controls and DEL (`\n`, `\r`, `\t`, `\x1b`, `\x7f`…), C1
 * controls (`\x9b`…), U+2028/U+2029 and the invisible format characters — bidi embeddings,
 * overrides, isolates and marks (`\u202e`…), zero-width space, tag characters (`\u{e0041}`). ZERO
 * WIDTH JOINER and NON-JOINER are left alone: emoji sequences and Persian or Indic words need them,
 * and neither can move the cursor or reorder text.
 *
 * A backslash is printed as itself, so a sender may type the two characters `\n`; that is still on
 * their own line and cannot start a new one.
 */

/** What is escaped: Cc (C0, DEL, C1), line and paragraph separators, lone surrogates, Cf but joiners. */
const UNSAFE = /[\p{Cc}\p{Zl}\p{Zp}\p{Cs}]|(?![\u200C\u200D])\p{Cf}/gu;

const hex = (n: number, width: number) => n.toString(16).padStart(width, "0");

function escapeChar(c: string): string {
  if (c === "\n") return "\\n";
  if (c === "\r") return "\\r";
  if (c === "\t") return "\\t";
  const cp = c.codePointAt(0)!;
  if (cp < 0x100) return `\\x${hex(cp, 2)}`;
  if (cp <= 0xffff) return `\\u${hex(cp, 4)}`;
  return `\\u{${hex(cp, 1)}}`;
}

/**
 * One line of someone else's text, safe to print: every control, bidi and invisible formatting
 * character escaped. Use it for every untrusted field (names, group names, reasons, details).
 */
export function terminalText(text: string): string {
  return text.replace(UNSAFE, escapeChar);
}

/** The prefix of a message's second and later lines; no other line of human output starts with it. */
export const CONTINUATION = "  | ";

/**
 * Message text, which may have several lines: each line is escaped like `terminalText`, and every
 * line after the first is indented with `CONTINUATION`, so it reads as part of the message above
 * and can never pass for a line of its own (a forged `[time] Carol: …` or `! IDENTITY CHANGED`).
 * Line breaks are \n or \r\n; a lone \r and everything else stay visible escapes.
 */
export function terminalMessage(text: string): string {
  return text.split(/\r?\n/).map(terminalText).join(`\n${CONTINUATION}`);
}

/**
 * JSON for one output line. JSON.stringify already escapes C0 controls; this also writes DEL, C1
 * controls, U+2028/U+2029 and the invisible format characters as \uXXXX, so `--json` printed on a
 * terminal is as harmless as human output. JSON.parse gives back exactly the original strings.
 */
export function jsonText(value: unknown): string {
  return JSON.stringify(value).replace(UNSAFE, (c) =>
    Array.from({ length: c.length }, (_, i) => `\\u${hex(c.charCodeAt(i), 4)}`).join(""),
  );
}
