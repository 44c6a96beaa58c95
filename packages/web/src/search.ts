/** What the message search shows of a found message: the part around the match, the match marked. */

/** How much text a result shows around the first match. */
const CONTEXT = 40;

export interface SnippetPart {
  text: string;
  match: boolean;
}

/**
 * The found text cut around its first match ("…at the Harbour Café at…") in parts, the matches
 * marked. Matching ignores case the way the search does where lower-casing keeps the length; when it
 * does not (a few letters grow), the text is shown unmarked rather than marked in the wrong place.
 */
export function snippet(text: string, query: string): SnippetPart[] {
  const lower = text.toLowerCase();
  const wanted = query.trim().toLowerCase();
  const first = wanted && lower.length === text.length ? lower.indexOf(wanted) : -1;
  if (first < 0) return [{ text: shorten(text), match: false }];
  const start = Math.max(0, first - CONTEXT);
  const end = Math.min(text.length, first + wanted.length + CONTEXT);
  const parts: SnippetPart[] = [];
  let at = start;
  while (at < end) {
    const next = lower.indexOf(wanted, at);
    if (next < 0 || next >= end) break;
    if (next > at) parts.push({ text: text.slice(at, next), match: false });
    parts.push({ text: text.slice(next, next + wanted.length), match: true });
    at = next + wanted.length;
  }
  if (at < end) parts.push({ text: text.slice(at, end), match: false });
  if (start > 0) parts.unshift({ text: "…", match: false });
  if (end < text.length) parts.push({ text: "…", match: false });
  return parts;
}

const shorten = (text: string) => (text.length > 2 * CONTEXT ? `${text.slice(0, 2 * CONTEXT)}…` : text);
