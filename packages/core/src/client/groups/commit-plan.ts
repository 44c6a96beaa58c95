/**
 * What a change the user asked for (a CommitIntent) means at the group's current epoch: checked
 * again each time it is (re)done (commit-order.ts) — people already added or already gone are
 * skipped, a change we are no longer allowed to make is dropped.
 */
import { decodeGroupMetadata, encodeGroupMetadata, isAdmin } from "../../messaging/group-metadata.js";
import { withoutMembers } from "../../messaging/leave-rule.js";
import type { GroupChanges, GroupState } from "../../mls/engine.js";
import type { CommitIntent } from "../../store/group-order.js";
import type { ProfileRecord } from "../../store/records.js";
import { b64, unb64 } from "../../store/repository.js";
import type { ClientContext } from "../context.js";

/**
 * The engine changes `intent` means at `state`, and the intent less what is done already (its
 * `add` is who gets this commit's Welcome); undefined when nothing of it is left to do.
 */
export async function plan(
  ctx: ClientContext,
  state: GroupState,
  intent: CommitIntent,
  profile: ProfileRecord,
): Promise<{ changes: GroupChanges; intent: CommitIntent } | undefined> {
  const meta = decodeGroupMetadata(ctx.engine.metadata(state));
  const members = ctx.engine.members(state);
  const present = new Set(members.map((m) => b64(m.identityKey)));
  const self = profile.identityPublicKey;
  const leaving = new Set(meta?.leaving ?? []);
  // Demoted meanwhile by the commit that won: admin changes are no longer ours to make.
  const admin = intent.unchecked === true || isAdmin(meta, self);
  const changes: GroupChanges = {};
  const effective: CommitIntent = { ...intent, add: [], remove: [], join: [], readd: [] };

  if (admin) {
    for (const a of intent.add ?? []) {
      const contact = await ctx.repo.contact(a.contactId);
      // Added meanwhile (by another admin's commit, which won): no second Welcome.
      if (contact && !present.has(contact.identityKey)) effective.add!.push(a);
    }
    const adding = new Set(present);
    for (const j of intent.join ?? []) {
      // Added meanwhile (another admin answered the same request first): no second Welcome.
      if (!adding.has(j.identityKey)) effective.join!.push(j);
      adding.add(j.identityKey);
    }
    const keyPackages = [...effective.add!, ...effective.join!].map((a) => unb64(a.keyPackage));
    if (keyPackages.length) changes.add = keyPackages;
  }
  // Our own new devices, admin or not (the policy's same-identity rule); each once.
  const devicesPresent = new Set(members.map((m) => b64(m.deviceKey)));
  effective.devices = [];
  for (const d of intent.devices ?? []) {
    const kp = await ctx.engine.inspectKeyPackage(unb64(d.keyPackage));
    if (b64(kp.identityKey) === self && !devicesPresent.has(b64(kp.deviceKey))) effective.devices.push(d);
  }
  if (effective.devices.length) {
    changes.add = [...(changes.add ?? []), ...effective.devices.map((d) => unb64(d.keyPackage))];
  }
  // Anyone may remove who marked themselves leaving; only admins anyone else. A commit of ours
  // that is not our own leave also takes out whoever marked themselves leaving.
  const wanted = [...(intent.remove ?? []), ...(intent.leave ? [] : leaving)];
  const gone = new Set(wanted.filter((k) => present.has(k) && k !== self && (admin || leaving.has(k))));
  effective.remove = (intent.remove ?? []).filter((k) => gone.has(k));
  // Our revoked devices' leaves, admin or not (never this device's own).
  const revoked = new Set(intent.revokeDevices ?? []);
  const own = ctx.engine.ownLeafIndex(state);
  const revokedLeaves = members.filter(
    (m) => revoked.has(b64(m.deviceKey)) && b64(m.identityKey) === self && m.leafIndex !== own,
  );
  effective.revokeDevices = revokedLeaves.map((m) => b64(m.deviceKey));
  // Members' devices that asked to be re-added (dead-epoch.ts): only the very device, still here
  // and staying — a re-add restores a member, it is no way back in for someone removed or leaving.
  const readdLeaves: number[] = [];
  for (const r of admin ? (intent.readd ?? []) : []) {
    const contact = await ctx.repo.contact(r.contactId);
    const old = members.filter(
      (m) =>
        b64(m.deviceKey) === r.deviceKey &&
        b64(m.identityKey) === contact?.identityKey &&
        !gone.has(b64(m.identityKey)) &&
        m.leafIndex !== own,
    );
    if (old.length === 0) continue;
    effective.readd!.push(r);
    readdLeaves.push(...old.map((m) => m.leafIndex));
    changes.add = [...(changes.add ?? []), unb64(r.keyPackage)];
  }
  const leaves = [
    ...members.filter((m) => gone.has(b64(m.identityKey))).map((m) => m.leafIndex),
    ...revokedLeaves.map((m) => m.leafIndex),
    ...readdLeaves,
  ];
  if (leaves.length) changes.remove = leaves;

  if (meta) {
    let next = withoutMembers(meta, gone);
    if (admin && (intent.rename !== undefined || intent.promote?.length || intent.demote?.length)) {
      const demoted = new Set(intent.demote ?? []);
      const promoted = (intent.promote ?? []).filter((k) => present.has(k) && !gone.has(k));
      const admins = [...new Set([...next.admins, ...promoted])].filter((k) => !demoted.has(k));
      next = { ...next, name: intent.rename ?? next.name, admins: admins.length ? admins : next.admins };
    }
    if (intent.leave && !leaving.has(self)) next = { ...next, leaving: [...(next.leaving ?? []), self] };
    const encoded = encodeGroupMetadata(next);
    if (b64(encoded) !== b64(encodeGroupMetadata(meta))) changes.metadata = encoded;
  }
  const empty = !changes.add && !changes.remove && !changes.metadata;
  return empty && !intent.rekey ? undefined : { changes, intent: effective };
}
