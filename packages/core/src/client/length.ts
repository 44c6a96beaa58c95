/** Text over a limit, refused before anything is sealed or uploaded: no receiver would accept it. */
import { ParleyError } from "../errors.js";
import { lengthIssue } from "../messaging/text-length.js";

/** Throws `too_long` when `text` has more than `max` characters a person sees (or is oversized). */
export function requireWithinLength(text: string, max: number): void {
  const issue = lengthIssue(text, max);
  if (issue) throw new ParleyError("too_long", issue);
}
