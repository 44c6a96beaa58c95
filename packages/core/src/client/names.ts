/** Names we choose (ours, a group's): the rules of text-safety.ts, refused with `bad_name`. */
import { MAX_NAME_LENGTH } from "../content/common.js";
import { ParleyError } from "../errors.js";
import { MAX_GROUP_NAME_LENGTH } from "../messaging/group-metadata.js";
import { type NameKind, nameIssue, normalizeName } from "../messaging/text-safety.js";

function parse(name: string, kind: NameKind, max: number): string {
  const normalized = normalizeName(name);
  const issue = nameIssue(normalized, kind, max);
  if (issue) throw new ParleyError("bad_name", { kind, ...issue });
  return normalized;
}

/** Our own display name: one line, 1 to 64 characters (as a person counts them), no control or bidi characters. */
export const parseName = (name: string): string => parse(name, "display name", MAX_NAME_LENGTH);

/** A group name we choose: the same rules as a display name, up to 100 characters. */
export const parseGroupName = (name: string): string => parse(name, "group name", MAX_GROUP_NAME_LENGTH);

/** A contact name not yet taken ("Bob", else "Bob (2)", "Bob (3)"…). */
export async function uniqueName(taken: Iterable<string>, wanted: string): Promise<string> {
  const lower = new Set([...taken].map((n) => n.toLowerCase()));
  if (!lower.has(wanted.toLowerCase())) return wanted;
  for (let i = 2; ; i++) if (!lower.has(`${wanted} (${i})`.toLowerCase())) return `${wanted} (${i})`;
}
