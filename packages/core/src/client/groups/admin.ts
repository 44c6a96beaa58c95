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
import { type GroupState, keyPackageCipherSuiteId } from "../../mls/engine.js";
import type { ContactRecord, GroupConversationRecord } from "../../store/records.js";
import { b64, unb64 } from "../../store/repository.js";
import { type ClientContext, deviceOf, randomId, requireProfile } from "../context.js";
import { sends } from "../conversations.js";
import { findContact, findGroup, requireGroupConversation } from "../lookup.js";
import { commitWithState, encryptContent, keyPackageId, loadState, saveState } from "../mls-state.js";
import { parseGroupName } from "../names.js";
import { sendContentLocked } from "../outbox.js";
import type { ConversationView, GroupMemberView } from "../views.js";
import { groupMembersOf, memberIdentity, requireAdmin } from "./members.js";
import { moveGroupQueue, publishToGroup } from "./queue.js";

export interface CreateGroupOptions {
  /**
   * Post-quantum: the group runs on MLS cipher suite X-Wing (0xF00D; docs/protocol.md) instead of
   * suite 1. Its members are added with their X-Wing KeyPackages.
   */
  pq?: boolean;
  /** A feed group (posts/audiences.ts): posts to an audience, hidden from the chat list. */
  feed?: boolean;
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
 * Adds contacts to a group in one commit, using a KeyPackage each of them gave us earlier.
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
  return ctx.lock.run(async () => {
    const conversation = await findGroup(ctx, group);
    const state = await loadState(ctx, conversation.groupId);
    requireAdmin(ctx, state, profile, options.unchecked);
    const present = new Set(ctx.engine.members(state).map((m) => b64(m.identityKey)));
    const suite = MLS_CIPHERSUITE_IDS[ctx.engine.cipherSuiteOf(state)];
    const picks: { contact: ContactRecord; ref: string; keyPackage: string }[] = [];
    for (const name of contactNames) {
      const contact = await findContact(ctx, name);
      if (present.has(contact.identityKey)) {
        throw new ParleyError("already_member", { contact: contact.name, group: conversation.name });
      }
      // One of the group's cipher suite (a contact who gave none of it cannot be added yet).
      const stock = (await ctx.repo.theirKeyPackages(contact.id)).find(
        ([, k]) => keyPackageCipherSuiteId(unb64(k.keyPackage)) === suite,
      );
      if (!stock) throw new ParleyError("no_key_package", { contact: contact.name });
      picks.push({ contact, ref: stock[0], keyPackage: stock[1].keyPackage });
    }
    const result = await ctx.engine.commit(state, { add: picks.map((p) => unb64(p.keyPackage)) });
    const batch = ctx.repo.batch();
    for (const p of picks) ctx.repo.deleteTheirKeyPackage(batch, p.contact.id, p.ref); // each is used once
    saveState(ctx, batch, conversation.groupId, result.state);
    await commitWithState(ctx, batch, conversation.groupId, result.state);
    const cursor = await publishToGroup(ctx, conversation, result.commits);

    const welcome = b64(result.welcome!);
    for (const p of picks) {
      await sendContentLocked(ctx, p.contact.conversationId, {
        type: "group-invite",
        welcome,
        keyPackageRef: await keyPackageId(ctx, unb64(p.keyPackage)),
        queue: conversation.receive as GroupQueue,
        ...(cursor ? { cursor } : {}),
      });
    }
    return groupMembersOf(ctx, conversation, result.state, profile);
  });
}

/** Removes people (all their devices) from a group, then moves the group to a new queue. */
export async function removeFromGroup(
  ctx: ClientContext,
  group: string,
  contactNames: string[],
): Promise<GroupMemberView[]> {
  const profile = await requireProfile(ctx);
  return ctx.lock.run(async () => {
    const conversation = await findGroup(ctx, group);
    const state = await loadState(ctx, conversation.groupId);
    requireAdmin(ctx, state, profile);
    const identities = await Promise.all(contactNames.map((n) => memberIdentity(ctx, state, n)));
    await removeIdentitiesLocked(ctx, conversation, state, identities);
    return groupMembersOf(
      ctx,
      await requireGroupConversation(ctx, conversation.id),
      await loadState(ctx, conversation.groupId),
      profile,
    );
  });
}

export async function removeIdentitiesLocked(
  ctx: ClientContext,
  conversation: GroupConversationRecord,
  state: GroupState,
  identities: string[],
): Promise<void> {
  const leaves = ctx.engine
    .members(state)
    .filter((m) => identities.includes(b64(m.identityKey)))
    .map((m) => m.leafIndex);
  if (leaves.length === 0) {
    throw new ParleyError("not_member", { group: conversation.name, who: identities.join(", ") });
  }
  const result = await ctx.engine.commit(state, { remove: leaves });
  // The removed can still read the old queue (not decrypt it): the group moves to a new queue,
  // announced in the new epoch, which the removed cannot decrypt.
  const oldQueue = conversation.receive;
  const newQueue = (await ctx.relay(oldQueue.relay).createQueue({ broadcast: true })) as GroupQueue;
  const moved = await encryptContent(ctx, result.state, { type: "group-queue", queue: newQueue });
  const batch = ctx.repo.batch();
  ctx.repo.putConversation(batch, moveGroupQueue(conversation, newQueue));
  ctx.repo.putRoute(batch, newQueue.queueId, { kind: "conversation", conversationId: conversation.id });
  saveState(ctx, batch, conversation.groupId, moved.state);
  await commitWithState(ctx, batch, conversation.groupId, moved.state);
  await publishToGroup(ctx, conversation, [...result.commits, moved.message]);
}

/** Leaves a group: tells the others (an admin's client removes us) and forgets the group's keys. */
export async function leaveGroup(ctx: ClientContext, group: string): Promise<void> {
  const profile = await requireProfile(ctx);
  await ctx.lock.run(async () => {
    const conversation = await findGroup(ctx, group);
    const state = await loadState(ctx, conversation.groupId);
    const meta = decodeGroupMetadata(ctx.engine.metadata(state));
    const others = distinctIdentities(ctx.engine.members(state)).filter(
      (m) => b64(m.identityKey) !== profile.identityPublicKey,
    );
    const otherAdmins = others.filter((m) => isAdmin(meta, m.identityKey));
    if (others.length > 0 && otherAdmins.length === 0) throw new ParleyError("last_admin", { leaving: true });
    if (others.length > 0) {
      const sealed = await encryptContent(ctx, state, { type: "group-leave" });
      await publishToGroup(ctx, conversation, [sealed.message]);
    }
    // Forward secrecy: without the group's keys this device cannot read what follows, or what was.
    const batch = ctx.repo.batch();
    ctx.repo.putConversation(batch, { ...conversation, status: "left" });
    ctx.repo.deleteGroupState(batch, conversation.groupId);
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
  return ctx.lock.run(async () => {
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
    const admins = admin
      ? [...new Set([...meta.admins, identityKey])]
      : meta.admins.filter((a) => a !== identityKey);
    if (admins.length === 0) throw new ParleyError("last_admin", { leaving: false });
    await commitMetadataLocked(ctx, conversation, state, { ...meta, admins });
    return groupMembersOf(ctx, conversation, await loadState(ctx, conversation.groupId), profile);
  });
}

export async function renameGroup(
  ctx: ClientContext,
  group: string,
  newName: string,
): Promise<ConversationView> {
  const name = parseGroupName(newName);
  const profile = await requireProfile(ctx);
  return ctx.lock.run(async () => {
    const conversation = await findGroup(ctx, group);
    const state = await loadState(ctx, conversation.groupId);
    const meta = requireAdmin(ctx, state, profile);
    await commitMetadataLocked(ctx, conversation, state, { ...meta, name });
    return {
      id: conversation.id,
      kind: "group",
      name,
      canSend: true,
      admin: true,
      status: "active",
      muted: conversation.muted === true,
      archived: false,
      readReceipts: sends(conversation, "readReceipts"),
      typingIndicators: sends(conversation, "typingIndicators"),
    };
  });
}

async function commitMetadataLocked(
  ctx: ClientContext,
  conversation: GroupConversationRecord,
  state: GroupState,
  meta: GroupMetadata,
): Promise<void> {
  const result = await ctx.engine.commit(state, { metadata: encodeGroupMetadata(meta) });
  const batch = ctx.repo.batch();
  ctx.repo.putConversation(batch, { ...conversation, name: meta.name, admins: meta.admins });
  saveState(ctx, batch, conversation.groupId, result.state);
  await commitWithState(ctx, batch, conversation.groupId, result.state);
  await publishToGroup(ctx, conversation, result.commits);
}
