/**
 * Leaving without an admin online (docs/protocol.md, "Leaving"). Two commits any member may make,
 * checked by every member from the group state alone — so a member who joined later, or a strict
 * RFC 9420 client following the group, judges them alike:
 *
 *  1. the leaver's own: the metadata gains the committer in `leaving`, nothing else changes;
 *  2. anyone's: removes members listed in `leaving` (all their devices), and the metadata loses them
 *     from `leaving` and from `admins`, nothing else changes.
 *
 * Both are ordinary MLS commits (Remove and GroupContextExtensions proposals, with an UpdatePath).
 */
import { toBase64Url as b64 } from "../encoding/base64url.js";
import type { Member } from "../mls/engine.js";
import { decodeGroupMetadata, type GroupMetadata } from "./group-metadata.js";

const same = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && [...a].sort().join() === [...b].sort().join();

/** The metadata after removing `gone`: out of `leaving` and `admins` (never the last admin). */
export function withoutMembers(meta: GroupMetadata, gone: ReadonlySet<string>): GroupMetadata {
  const admins = meta.admins.filter((k) => !gone.has(k));
  const leaving = (meta.leaving ?? []).filter((k) => !gone.has(k));
  const next: GroupMetadata = { ...meta, admins: admins.length ? admins : meta.admins };
  if (leaving.length) next.leaving = leaving;
  else delete next.leaving;
  return next;
}

/** Whether a commit by a non-admin is one of the two above. */
export function leaveRuleAllows(
  current: GroupMetadata,
  committer: Member,
  added: Member[],
  removed: Member[],
  metadata: Uint8Array | undefined,
): boolean {
  if (added.length > 0) return false;
  const next = metadata === undefined ? current : decodeGroupMetadata(metadata);
  if (!next || next.name !== current.name) return false;
  const leaving = current.leaving ?? [];
  const self = b64(committer.identityKey);
  const gone = new Set(removed.map((m) => b64(m.identityKey)));
  if (gone.size === 0) {
    // 1: our own mark, and nothing else.
    return (
      !leaving.includes(self) &&
      same(next.admins, current.admins) &&
      same(next.leaving ?? [], [...leaving, self])
    );
  }
  // 2: only people who marked themselves leaving, and the metadata exactly without them.
  if ([...gone].some((k) => !leaving.includes(k)) || gone.has(self)) return false;
  const expected = withoutMembers(current, gone);
  return same(next.admins, expected.admins) && same(next.leaving ?? [], expected.leaving ?? []);
}
