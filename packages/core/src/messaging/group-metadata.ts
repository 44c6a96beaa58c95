/**
 * A group's name and roles. They live inside the MLS group state (a private GroupContext extension),
 * so only members see them and every change is a commit that every member checks. The relay never
 * sees any of it.
 */
import { z } from "zod";
import { toBase64Url as b64 } from "../encoding/base64url.js";
import { fromUtf8, utf8 } from "../encoding/bytes.js";
import type { CommitPolicy, Member, MlsEngine } from "../mls/engine.js";
import { leaveRuleAllows } from "./leave-rule.js";
import { nameSchema } from "./text-safety.js";

export const MAX_GROUP_NAME_LENGTH = 100;

/**
 * A group's name: one line, no control, bidi or invisible formatting characters (text-safety.ts).
 * Checked when we choose it and whenever we read the metadata, so a group whose admin (on a
 * modified client) sets such a name is not joined, and such a rename is refused like any other
 * malformed metadata.
 */
export const GroupName = nameSchema("group name", MAX_GROUP_NAME_LENGTH);

const GroupMetadataSchema = z.object({
  v: z.literal(1),
  name: GroupName,
  /** Identity keys (base64url) of the admins: only they may add, remove, rename or change roles. */
  admins: z.array(z.string().length(43)).min(1).max(10_000),
  /**
   * Identity keys of members who committed that they leave: any member may commit their removal
   * (leave-rule.ts), so a leave needs no admin online.
   */
  leaving: z.array(z.string().length(43)).max(10_000).optional(),
  /** A feed group: its one admin's posts to an audience (docs/04-posts.md), not a chat. */
  feed: z.literal(true).optional(),
});
export type GroupMetadata = z.infer<typeof GroupMetadataSchema>;

export const encodeGroupMetadata = (m: GroupMetadata): Uint8Array => utf8(JSON.stringify(m));

export function decodeGroupMetadata(bytes: Uint8Array | undefined): GroupMetadata | undefined {
  if (!bytes) return undefined;
  try {
    const parsed = GroupMetadataSchema.safeParse(JSON.parse(fromUtf8(bytes)));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export const isAdmin = (m: GroupMetadata | undefined, identityKey: Uint8Array | string): boolean =>
  !!m?.admins.includes(typeof identityKey === "string" ? identityKey : b64(identityKey));

/**
 * The rule every member's client applies to every commit: adding, removing and changing the
 * metadata are for admins; anyone may refresh their own keys. Because each member enforces it, a
 * modified client that commits anyway only cuts itself off from the group.
 */
export function groupPolicy(engine: MlsEngine): CommitPolicy {
  return ({ before, committer, added, removed, metadata }) => {
    const privileged = added.length > 0 || removed.length > 0 || metadata !== undefined;
    if (!privileged) return undefined;
    const current = decodeGroupMetadata(engine.metadata(before));
    if (!committer) return "only members may change the group";
    // A person's own devices (docs/devices.md): any of them may add or remove a leaf that carries
    // its own identity key, admin or not, in a group or a 1:1 chat. Nothing else rides along.
    if (metadata === undefined && ownDevicesOnly(committer, added, removed)) return undefined;
    if (!isAdmin(current, committer.identityKey)) {
      if (current && leaveRuleAllows(current, committer, added, removed, metadata)) return undefined;
      return "only admins may add, remove, rename or change roles";
    }
    if (metadata !== undefined && !decodeGroupMetadata(metadata)) return "malformed group metadata";
    return undefined;
  };
}

/** Every leaf added or removed is the committer's own (same identity key): linking and revoking. */
function ownDevicesOnly(committer: Member, added: Member[], removed: Member[]): boolean {
  const self = b64(committer.identityKey);
  const all = [...added, ...removed];
  return all.length > 0 && all.every((m) => b64(m.identityKey) === self);
}

/** People, not devices: one entry per identity key, in leaf order. */
export function distinctIdentities(members: Member[]): Member[] {
  const seen = new Set<string>();
  return members.filter((m) => {
    const k = b64(m.identityKey);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
