/** A group's members as views, and the checks on who may do what. */
import { ParleyError } from "../../errors.js";
import { decodeGroupMetadata, type GroupMetadata, isAdmin } from "../../messaging/group-metadata.js";
import type { GroupState } from "../../mls/engine.js";
import type { GroupConversationRecord, ProfileRecord } from "../../store/records.js";
import { b64 } from "../../store/repository.js";
import { type ClientContext, requireProfile } from "../context.js";
import { contactRef, findContact, findGroup, person } from "../lookup.js";
import { loadState } from "../mls-state.js";
import type { GroupMemberView } from "../views.js";

export async function groupMembers(ctx: ClientContext, group: string): Promise<GroupMemberView[]> {
  const profile = await requireProfile(ctx);
  const conversation = await findGroup(ctx, group);
  return groupMembersOf(ctx, conversation, await loadState(ctx, conversation.groupId), profile);
}

export async function groupMembersOf(
  ctx: ClientContext,
  conversation: GroupConversationRecord,
  state: GroupState,
  profile: ProfileRecord,
): Promise<GroupMemberView[]> {
  const meta = decodeGroupMetadata(ctx.engine.metadata(state));
  const contacts = new Map((await ctx.repo.contacts()).map((c) => [c.identityKey, c]));
  const devices = new Map<string, number>();
  for (const m of ctx.engine.members(state)) {
    const k = b64(m.identityKey);
    devices.set(k, (devices.get(k) ?? 0) + 1);
  }
  const views: GroupMemberView[] = [];
  for (const [identityKey, count] of devices) {
    const contact = contacts.get(identityKey);
    // A contact from the map read once above: person() would read every contact again, for each
    // member (5,000 members: 25 million records read, docs/04-posts.md).
    const ref =
      contact && identityKey !== profile.identityPublicKey
        ? contactRef(contact)
        : await person(ctx, conversation.id, identityKey, profile);
    views.push({
      ...ref,
      role: isAdmin(meta, identityKey) ? "admin" : "member",
      isMe: ref.relation === "me",
      safety:
        ref.relation === "me" ? "me" : contact ? (contact.verified ? "verified" : "unverified") : "member",
      devices: count,
    });
  }
  return views;
}

/** A member by identity key (as groupMembers gives it: they may not be our contact), else a contact. */
export async function memberIdentity(
  ctx: ClientContext,
  state: GroupState,
  nameOrKey: string,
): Promise<string> {
  if (ctx.engine.members(state).some((m) => b64(m.identityKey) === nameOrKey)) return nameOrKey;
  return (await findContact(ctx, nameOrKey)).identityKey;
}

export function requireAdmin(
  ctx: ClientContext,
  state: GroupState,
  profile: ProfileRecord,
  unchecked = false,
): GroupMetadata {
  const meta = decodeGroupMetadata(ctx.engine.metadata(state));
  if (!meta) throw new ParleyError("corrupt", { what: "group_metadata" });
  if (!unchecked && !isAdmin(meta, profile.identityPublicKey)) {
    throw new ParleyError("not_admin", { group: meta.name });
  }
  return meta;
}

/**
 * One member acts on a leave, not all of them at once: the lowest leaf among the admins, or —
 * when the leaver marked itself `leaving` in the group state, so that anyone may remove it
 * (messaging/leave-rule.ts) — among all members staying.
 */
export function isDesignatedRemover(
  ctx: ClientContext,
  state: GroupState,
  profile: ProfileRecord,
  leaver: string,
) {
  const meta = decodeGroupMetadata(ctx.engine.metadata(state));
  const anyone = meta?.leaving?.includes(leaver) === true;
  const candidates = ctx.engine
    .members(state)
    .filter((m) => b64(m.identityKey) !== leaver && !meta?.leaving?.includes(b64(m.identityKey)))
    .filter((m) => anyone || isAdmin(meta, m.identityKey))
    .sort((a, b) => a.leafIndex - b.leafIndex);
  return candidates.length > 0 && b64(candidates[0]!.identityKey) === profile.identityPublicKey;
}
