/** Group administration: create, add, remove, leave, roles, rename. Every change is one MLS commit. */
import type { GroupQueue } from "../../content/index.js";
import { MLS_CIPHERSUITE_IDS, PQ_MLS_CIPHERSUITE } from "../../crypto/provider.js";
import { ParleyError } from "../../errors.js";
import {
  decodeGroupMetadata,
  distinctIdentities,
  encodeGroupMetadata,
  type GroupMetadata,
  isAdmin,
} from "../../messaging/group-metadata.js";
import type { GroupState } from "../../mls/engine.js";
import { RelayError } from "../../relay-client/errors.js";
import type { CommitIntent } from "../../store/group-order.js";
import type { GroupConversationRecord, ProfileRecord } from "../../store/records.js";
import { b64 } from "../../store/repository.js";
import { type ClientContext, deviceOf, randomId, requireProfile } from "../context.js";
import { sends } from "../conversations.js";
import { keyPackagesOfEachDevice } from "../key-packages.js";
import { findContact, findGroup, requireGroupConversation } from "../lookup.js";
import { commitWithState, encryptContent, loadState, saveState } from "../mls-state.js";
import { parseGroupName } from "../names.js";
import type { ConversationView, GroupMemberView } from "../views.js";
import { commitChange, deletePendingCommit, proposeLocked } from "./commit-order.js";
import { groupMembersOf, memberIdentity, requireAdmin } from "./members.js";
import { publishToGroup } from "./queue.js";

export interface CreateGroupOptions {
  /**
   * Post-quantum: the group runs on MLS cipher suite X-Wing (0xF00D; docs/protocol.md) instead of
   * suite 1. Its members are added with their X-Wing KeyPackages.
   */
  pq?: boolean;
  /** A feed group (posts/audiences.ts): posts to an audience, hidden from the chat list. */
  feed?: boolean;
  /** Our devices' own group (devices/self-group.ts): hidden from the chat list. */
  self?: boolean;
}

/** Creates a group with us as its only member and admin. Its name lives only in the MLS state. */
export async function createGroup(
  ctx: ClientContext,
  name: string,
  options: CreateGroupOptions = {},
): Promise<ConversationView> {
  const groupName = parseGroupName(name);
  const profile = await requireProfile(ctx);
  const queue = (await ctx.relay(profile.relay).createQueue({ broadcast: true })) as GroupQueue;
  const device = deviceOf(profile);
  return ctx.lock.run(async () => {
    const groupId = ctx.crypto.randomBytes(32);
    const metadata: GroupMetadata = {
      v: 1,
      name: groupName,
      admins: [profile.identityPublicKey],
      ...(options.feed ? { feed: true as const } : {}),
    };
    // The group's cipher suite is that of its creator's KeyPackage.
    const self = await ctx.engine.createKeyPackage(
      device,
      options.pq ? { cipherSuite: PQ_MLS_CIPHERSUITE } : {},
    );
    const state = await ctx.engine.createGroup(groupId, device, self, encodeGroupMetadata(metadata));
    const conversation: GroupConversationRecord = {
      id: randomId(ctx),
      kind: "group",
      groupId: b64(groupId),
      receive: queue,
      sendTo: { relay: queue.relay, sendId: queue.sendId },
      name: groupName,
      admins: metadata.admins,
      ...(options.feed ? { feed: true as const } : {}),
      ...(options.self ? { self: true as const } : {}),
      previousQueues: [],
      status: "active",
      createdAt: ctx.now(),
    };
    const batch = ctx.repo.batch();
    ctx.repo.putConversation(batch, conversation);
    ctx.repo.putRoute(batch, queue.queueId, { kind: "conversation", conversationId: conversation.id });
    saveState(ctx, batch, conversation.groupId, state);
    await commitWithState(ctx, batch, conversation.groupId, state);
    return {
      id: conversation.id,
      kind: "group",
      name: groupName,
      canSend: true,
      admin: true,
      status: "active",
      muted: false,
      archived: false,
      readReceipts: sends(conversation, "readReceipts"),
      typingIndicators: sends(conversation, "typingIndicators"),
    };
  });
}

/**
 * Adds contacts to a group in one commit, using a KeyPackage each of them gave us earlier; their
 * Welcomes go once the group's queue confirms the commit (commit-order.ts).
 * `unchecked` skips our own admin check — only to prove that the other members enforce it.
 */
export async function addToGroup(
  ctx: ClientContext,
  group: string,
  contactNames: string[],
  options: { unchecked?: boolean } = {},
): Promise<GroupMemberView[]> {
  if (contactNames.length === 0) throw new ParleyError("empty", { what: "contacts" });
  const profile = await requireProfile(ctx);
  const { conversation, intent } = await ctx.lock.run(async () => {
    const conversation = await findGroup(ctx, group);
    const state = await loadState(ctx, conversation.groupId);
    requireAdmin(ctx, state, profile, options.unchecked);
    const present = new Set(ctx.engine.members(state).map((m) => b64(m.identityKey)));
    const suite = MLS_CIPHERSUITE_IDS[ctx.engine.cipherSuiteOf(state)];
    const add: NonNullable<CommitIntent["add"]> = [];
    for (const name of contactNames) {
      const contact = await findContact(ctx, name);
      if (present.has(contact.identityKey)) {
        throw new ParleyError("already_member", { contact: contact.name, group: conversation.name });
      }
      // One of the group's cipher suite for each of their devices, all in this commit (a contact
      // who gave none of it cannot be added yet): for each device one used once if any is left,
      // else its last-resort one (client/key-packages.ts).
      const stock = await keyPackagesOfEachDevice(ctx, contact, suite);
      if (stock.length === 0) throw new ParleyError("no_key_package", { contact: contact.name });
      for (const [ref, k] of stock)
        add.push({
          contactId: contact.id,
          ref,
          keyPackage: k.keyPackage,
          ...(k.lastResort ? { lastResort: true as const } : {}),
        });
    }
    const intent: CommitIntent = { add, ...(options.unchecked ? { unchecked: true as const } : {}) };
    return { conversation, intent };
  });
  await commitChange(ctx, conversation.id, intent);
  return currentMembers(ctx, conversation.id, profile);
}

/** Removes people (all their devices) from a group, then moves the group to a new queue. */
export async function removeFromGroup(
  ctx: ClientContext,
  group: string,
  contactNames: string[],
): Promise<GroupMemberView[]> {
  const profile = await requireProfile(ctx);
  const { conversation, identities } = await ctx.lock.run(async () => {
    const conversation = await findGroup(ctx, group);
    const state = await loadState(ctx, conversation.groupId);
    requireAdmin(ctx, state, profile);
    const identities = await Promise.all(contactNames.map((n) => memberIdentity(ctx, state, n)));
    requireMembers(ctx, conversation, state, identities);
    return { conversation, identities };
  });
  await commitChange(ctx, conversation.id, { remove: identities });
  return currentMembers(ctx, conversation.id, profile);
}

/** Under the lock: commits the removal of `identities` (a member who left), settled later. */
export async function removeIdentitiesLocked(
  ctx: ClientContext,
  conversation: GroupConversationRecord,
  state: GroupState,
  identities: string[],
): Promise<void> {
  requireMembers(ctx, conversation, state, identities);
  await proposeLocked(ctx, conversation, { remove: identities });
}

function requireMembers(
  ctx: ClientContext,
  conversation: GroupConversationRecord,
  state: GroupState,
  identities: string[],
): void {
  const present = new Set(ctx.engine.members(state).map((m) => b64(m.identityKey)));
  if (!identities.some((k) => present.has(k))) {
    throw new ParleyError("not_member", { group: conversation.name, who: identities.join(", ") });
  }
}

async function currentMembers(ctx: ClientContext, conversationId: string, profile: ProfileRecord) {
  const conversation = await requireGroupConversation(ctx, conversationId);
  return groupMembersOf(ctx, conversation, await loadState(ctx, conversation.groupId), profile);
}

/** A fresh UpdatePath for our leaf (post-compromise security): `parley group rekey`. */
export async function rekeyGroup(ctx: ClientContext, group: string): Promise<void> {
  await requireProfile(ctx);
  const conversation = await findGroup(ctx, group);
  await commitChange(ctx, conversation.id, { rekey: true });
}

/**
 * Leaves a group without needing an admin online: first a commit marking us `leaving` (any member
 * may then commit our removal: messaging/leave-rule.ts), then a `group-leave` message, then the
 * group's keys are forgotten on this device.
 */
export async function leaveGroup(ctx: ClientContext, group: string): Promise<void> {
  const profile = await requireProfile(ctx);
  const { conversation, alone } = await ctx.lock.run(async () => {
    const conversation = await findGroup(ctx, group);
    const state = await loadState(ctx, conversation.groupId);
    const meta = decodeGroupMetadata(ctx.engine.metadata(state));
    const others = distinctIdentities(ctx.engine.members(state)).filter(
      (m) => b64(m.identityKey) !== profile.identityPublicKey,
    );
    const otherAdmins = others.filter((m) => isAdmin(meta, m.identityKey));
    if (others.length > 0 && otherAdmins.length === 0) throw new ParleyError("last_admin", { leaving: true });
    return { conversation, alone: others.length === 0 };
  });
  // The mark, settled.
  let failure: unknown;
  if (!alone) {
    await commitChange(ctx, conversation.id, { leave: true }).catch((e: unknown) => {
      failure = e;
    });
  }
  await ctx.lock.run(async () => {
    const current = await requireGroupConversation(ctx, conversation.id);
    if (current.status !== "active") return; // removed meanwhile: nothing left to leave
    if (!alone) {
      const state = await loadState(ctx, current.groupId);
      // The mark has not won yet (the relay out of reach, or its turn did not come before the
      // settle deadline): the keys stay. Forgotten now, nothing could carry the mark through (each
      // sync resumes it: commit-order.ts), and a `group-leave` read more than a few epochs late
      // can no longer be read — we would stay in everyone's member list for good, with no keys.
      if (!decodeGroupMetadata(ctx.engine.metadata(state))?.leaving?.includes(profile.identityPublicKey)) {
        throw failure ?? new RelayError("network", "the leave has not reached the group yet");
      }
      const sealed = await encryptContent(ctx, state, { type: "group-leave" });
      await publishToGroup(ctx, current, [sealed.message]);
    }
    // Forward secrecy: without the group's keys this device cannot read what follows, or what was.
    const batch = ctx.repo.batch();
    ctx.repo.putConversation(batch, { ...current, status: "left" });
    await ctx.repo.deleteGroupState(batch, current.groupId);
    deletePendingCommit(batch, current.id);
    await ctx.repo.commit(batch);
  });
}

export async function setGroupAdmin(
  ctx: ClientContext,
  group: string,
  contactName: string,
  admin: boolean,
): Promise<GroupMemberView[]> {
  const profile = await requireProfile(ctx);
  const { conversation, identityKey } = await ctx.lock.run(async () => {
    const conversation = await findGroup(ctx, group);
    const state = await loadState(ctx, conversation.groupId);
    const meta = requireAdmin(ctx, state, profile);
    const identityKey =
      contactName.toLowerCase() === "me"
        ? profile.identityPublicKey
        : await memberIdentity(ctx, state, contactName);
    if (!ctx.engine.members(state).some((m) => b64(m.identityKey) === identityKey)) {
      throw new ParleyError("not_member", { group: conversation.name, who: contactName });
    }
    if (!admin && meta.admins.every((a) => a === identityKey)) {
      throw new ParleyError("last_admin", { leaving: false });
    }
    return { conversation, identityKey };
  });
  await commitChange(ctx, conversation.id, admin ? { promote: [identityKey] } : { demote: [identityKey] });
  return currentMembers(ctx, conversation.id, profile);
}

export async function renameGroup(
  ctx: ClientContext,
  group: string,
  newName: string,
): Promise<ConversationView> {
  const name = parseGroupName(newName);
  const profile = await requireProfile(ctx);
  const conversation = await ctx.lock.run(async () => {
    const conversation = await findGroup(ctx, group);
    requireAdmin(ctx, await loadState(ctx, conversation.groupId), profile);
    return conversation;
  });
  await commitChange(ctx, conversation.id, { rename: name });
  const now = await requireGroupConversation(ctx, conversation.id);
  return {
    id: now.id,
    kind: "group",
    name: now.name,
    canSend: now.status === "active",
    admin: now.admins.includes(profile.identityPublicKey),
    status: now.status,
    muted: now.muted === true,
    archived: false,
    readReceipts: sends(now, "readReceipts"),
    typingIndicators: sends(now, "typingIndicators"),
  };
}
