/**
 * The client engine: one device's view of its contacts, groups and conversations. It turns user
 * intents (invite, accept, send, add to a group) into MLS operations and relay calls, and relay
 * deliveries into history.
 *
 * Rules it keeps everywhere:
 * - every operation reloads the state it needs from the store under the profile lock, so a CLI
 *   `send` and a running `listen` in another process never fork the MLS ratchets;
 * - state is stored before anything derived from it leaves the device, and a delivery is
 *   acknowledged (or a group cursor moved) only after its result is stored: at-least-once,
 *   deduplicated by relay msgId;
 * - nothing forged, tampered or malformed reaches history: it is reported as a rejection instead;
 * - group rules (who may add, remove, rename) are checked by this client on every commit it
 *   receives, because the relay cannot check them.
 */
import type { CryptoProvider } from "../crypto/provider.js";
import type { DeviceIdentity } from "../identity/device.js";
import { createIdentity } from "../identity/identity-key.js";
import { safetyNumber } from "../identity/safety-number.js";
import {
  type GroupState,
  type Member,
  type MlsEngine,
  MlsFutureEpochError,
  MlsProcessingError,
} from "../mls/engine.js";
import { PaddingError, pad, unpad } from "../protocol/padding.js";
import { RelayError } from "../relay-client/errors.js";
import { type FetchLike, normalizeRelayUrl, RelayHttpClient } from "../relay-client/relay-http.js";
import { RelaySocket, type WebSocketFactory } from "../relay-client/relay-socket.js";
import type { QueueCredentials } from "../relay-client/signing.js";
import type { KeyValueStore } from "../storage/key-value-store.js";
import {
  type Body,
  ContentError,
  DisplayName,
  decodeContent,
  encodeContent,
  type GroupQueue,
} from "./content.js";
import {
  decodeGroupMetadata,
  distinctIdentities,
  encodeGroupMetadata,
  type GroupMetadata,
  GroupName,
  groupPolicy,
  isAdmin,
} from "./group-metadata.js";
import { formatInviteLink, InviteError, openInvite, parseInviteLink, sealInvite } from "./invite-link.js";
import { InProcessLock, type ProfileLock } from "./profile-lock.js";
import { type Batch, b64, ProfileRepository, unb64 } from "./profile-repository.js";
import type {
  ContactRecord,
  ConversationRecord,
  MessageRecord,
  ProfileRecord,
  QueueRoute,
} from "./records.js";

export interface ClientEnvironment {
  store: KeyValueStore;
  crypto: CryptoProvider;
  engine: MlsEngine;
  webSocket?: WebSocketFactory;
  fetch?: FetchLike;
  lock?: ProfileLock;
  now?: () => number;
}

/** A message as a UI or the CLI shows it. */
export interface MessageView {
  conversation: string; // the contact's or the group's display name
  conversationId: string;
  kind: "direct" | "group";
  id: string;
  from: string; // a display name, or "me"
  fromMe: boolean;
  text: string;
  sentAt: string; // ISO 8601
  receivedAt: string | null;
  status: MessageRecord["status"];
}

export interface ContactView {
  id: string;
  name: string;
  verified: boolean;
  keyChanged: boolean;
  conversationId: string;
  canSend: boolean;
}

export interface ConversationView {
  id: string;
  kind: "direct" | "group";
  name: string;
  canSend: boolean;
  /** Direct: the contact. */
  contactId?: string;
  /** Groups: whether we are an admin, and whether we are still a member. */
  admin?: boolean;
  status?: "active" | "left" | "removed";
}

export interface GroupMemberView {
  name: string;
  identityKey: string;
  role: "admin" | "member";
  isMe: boolean;
  /** "verified" / "unverified" for contacts (safety number compared or not), "not a contact" otherwise. */
  safety: "verified" | "unverified" | "not a contact" | "me";
  devices: number;
}

export type ClientEvent =
  | { type: "message"; message: MessageView }
  | { type: "contact"; contact: ContactView; change: "added" | "renamed" | "key-changed" }
  | {
      type: "group";
      conversationId: string;
      name: string;
      change: "joined" | "members" | "renamed" | "roles" | "removed" | "moved";
      detail?: string;
    }
  | { type: "delivered"; conversationId: string; ids: string[] }
  | { type: "rejected"; reason: string }
  /**
   * Something this device could not do on its own, with nothing lost: a receipt or KeyPackages
   * that could not be sent (`followup_failed`), a conversation re-established after its queue
   * vanished from the relay (`queue_renewed`), messages a sender sent that never arrived
   * (`messages_missing`, from gaps in the sender's MLS generation counter).
   */
  | {
      type: "warning";
      code: "followup_failed" | "queue_renewed" | "messages_missing";
      conversationId: string;
      detail: string;
    }
  | { type: "status"; status: "connecting" | "open" | "closed"; detail?: string };

export class ParleyError extends Error {
  override name = "ParleyError";
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Work a delivery asks for once it is stored: sent after the profile lock is released. */
type Followup =
  | { kind: "receipt"; conversationId: string; ids: string[] }
  | { kind: "key-packages"; conversationId: string; count: number }
  | { kind: "group-profile"; conversationId: string }
  | { kind: "remove-leaver"; conversationId: string; identityKey: string }
  | { kind: "retry-held"; conversationId: string };

interface Processed {
  events: ClientEvent[];
  followups: Followup[];
  saved?: { groupId: string; epoch: bigint } | undefined;
}

/** How many KeyPackages each side gives the other when they connect (one is used per group add). */
const KEY_PACKAGE_STOCK = 3;

/** The MLS exporter label of a group's rendezvous queue (see meetOnRendezvousLocked). */
const RENDEZVOUS_LABEL = "parley group rendezvous queue";

/** Messages of a later epoch kept per conversation until their commit arrives; more are rejected. */
const MAX_HELD_MESSAGES = 256;

export class ParleyClient {
  readonly repo: ProfileRepository;
  private readonly crypto: CryptoProvider;
  private readonly engine: MlsEngine;
  private readonly lock: ProfileLock;
  private readonly now: () => number;
  private readonly relays = new Map<string, RelayHttpClient>();
  private readonly policy;

  constructor(private readonly env: ClientEnvironment) {
    this.repo = new ProfileRepository(env.store);
    this.crypto = env.crypto;
    this.engine = env.engine;
    this.lock = env.lock ?? new InProcessLock();
    this.now = env.now ?? Date.now;
    this.policy = groupPolicy(env.engine);
  }

  // ---- profile -------------------------------------------------------------------------------

  async init(name: string, relay: string): Promise<ProfileRecord> {
    const displayName = parseName(name);
    const relayUrl = normalizeRelayUrl(relay);
    return this.lock.run(async () => {
      if (await this.repo.profile()) throw new ParleyError("exists", "this profile is already initialised");
      const { identity, device } = await createIdentity(this.crypto);
      const profile: ProfileRecord = {
        v: 1,
        name: displayName,
        relay: relayUrl,
        identityPublicKey: b64(identity.publicKey),
        identitySecretKey: b64(identity.secretKey),
        deviceKey: b64(device.deviceKey),
        deviceSecretKey: b64(device.deviceSecretKey),
        certificate: b64(device.certificate),
        createdAt: this.now(),
      };
      await this.repo.commit(this.repo.putProfile(this.repo.batch(), profile));
      return profile;
    });
  }

  async profile(): Promise<ProfileRecord> {
    const p = await this.repo.profile();
    if (!p) {
      throw new ParleyError(
        "no_profile",
        "no profile here yet: run `parley init --name <name> --server <url>`",
      );
    }
    return p;
  }

  private device(p: ProfileRecord): DeviceIdentity {
    return {
      identityKey: unb64(p.identityPublicKey),
      deviceKey: unb64(p.deviceKey),
      deviceSecretKey: unb64(p.deviceSecretKey),
      certificate: unb64(p.certificate),
    };
  }

  private relay(url: string): RelayHttpClient {
    let client = this.relays.get(url);
    if (!client) {
      client = new RelayHttpClient(url, this.crypto, this.env.fetch);
      this.relays.set(url, client);
    }
    return client;
  }

  // ---- invitations ---------------------------------------------------------------------------

  /** Creates a one-time invite link. The queue it names becomes this contact's conversation queue. */
  async createInvite(): Promise<{ link: string; inviteId: string }> {
    const profile = await this.profile();
    const relay = this.relay(profile.relay);
    const queue = await relay.createQueue();
    const keyPackage = await this.engine.createKeyPackage(this.device(profile));
    const key = this.crypto.randomBytes(32);
    const sealed = await sealInvite(this.crypto, key, {
      v: 1,
      name: profile.name,
      sendId: queue.sendId,
      keyPackage: b64(keyPackage.publicMessage),
    });
    const inviteId = await relay.createInvite(sealed);
    await this.lock.run(async () => {
      const batch = this.repo.batch();
      this.repo.putInvite(batch, {
        queue,
        inviteId,
        keyPackage: { publicMessage: b64(keyPackage.publicMessage), privateKey: b64(keyPackage.privateKey) },
        createdAt: this.now(),
      });
      this.repo.putRoute(batch, queue.queueId, { kind: "invite", queueId: queue.queueId });
      await this.repo.commit(batch);
    });
    return { link: formatInviteLink({ relay: relay.baseUrl, inviteId, key }), inviteId };
  }

  /** Accepts an invite link: claims it (single use), starts the MLS group and introduces us. */
  async acceptInvite(link: string): Promise<ContactView> {
    const parsed = parseInviteLink(link);
    const profile = await this.profile();
    const inviterRelay = this.relay(parsed.relay);
    const gone = (e: unknown) => {
      if (e instanceof RelayError && e.code === "invite_gone") {
        return new InviteError("this invite was already used or has expired: ask for a new one");
      }
      return e;
    };
    // Opened before it is claimed: a link with a mistyped key fails here and leaves the invite
    // usable, instead of using it up on the relay and then failing.
    const peeked = await inviterRelay.peekInvite(parsed.inviteId).catch((e) => {
      throw gone(e);
    });
    await openInvite(this.crypto, parsed.key, peeked).catch((e) => {
      throw e instanceof InviteError && e.reason === "wrong_key"
        ? new InviteError(
            "this link's key does not open the invite: check that the whole link was copied (the invite is still unused)",
          )
        : e;
    });
    const sealed = await inviterRelay.claimInvite(parsed.inviteId).catch((e) => {
      throw gone(e);
    });
    const payload = await openInvite(this.crypto, parsed.key, sealed);
    const inviter = await this.engine.inspectKeyPackage(unb64(payload.keyPackage)).catch((e: Error) => {
      throw new InviteError(`invite rejected: ${e.message}`);
    });
    if (b64(inviter.identityKey) === profile.identityPublicKey) {
      throw new InviteError("this is your own invite: send it to the person you want to talk to");
    }
    const ownQueue = await this.relay(profile.relay).createQueue();
    const device = this.device(profile);

    const view = await this.lock.run(async () => {
      const groupId = this.crypto.randomBytes(32);
      const self = await this.engine.createKeyPackage(device);
      let state = await this.engine.createGroup(groupId, device, self);
      const added = await this.engine.addMembers(state, [unb64(payload.keyPackage)]);
      state = added.state;
      const intro = await this.encryptContent(state, {
        type: "intro",
        name: profile.name,
        replyTo: ownQueue,
      });
      state = intro.state;

      const conversation: ConversationRecord = {
        id: b64(this.crypto.randomBytes(16)),
        kind: "direct",
        groupId: b64(groupId),
        receive: ownQueue,
        sendTo: { relay: parsed.relay, sendId: payload.sendId },
        contactId: "",
        createdAt: this.now(),
      };
      const contact = await this.newContact(b64(inviter.identityKey), payload.name, true, conversation.id);
      conversation.contactId = contact.id;

      const batch = this.repo.batch();
      this.repo.putContact(batch, contact);
      this.repo.putConversation(batch, conversation);
      this.repo.putRoute(batch, ownQueue.queueId, { kind: "conversation", conversationId: conversation.id });
      this.saveState(batch, conversation.groupId, state);
      await this.commitBatch(batch, conversation.groupId, state);

      // Welcome first, then the intro: the relay keeps a queue's order.
      await inviterRelay.send(payload.sendId, pad(added.welcome));
      await inviterRelay.send(payload.sendId, pad(intro.message));
      return this.contactView(contact, conversation);
    });
    await this.runFollowups([
      { kind: "key-packages", conversationId: view.conversationId, count: KEY_PACKAGE_STOCK },
    ]);
    return view;
  }

  // ---- contacts ------------------------------------------------------------------------------

  async contacts(): Promise<ContactView[]> {
    await this.profile();
    const views: ContactView[] = [];
    for (const c of await this.repo.contacts()) {
      const conv = await this.repo.conversation(c.conversationId);
      if (conv) views.push(this.contactView(c, conv));
    }
    return views.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Finds a contact by name (case-insensitive, or an unambiguous prefix) or id. */
  async findContact(nameOrId: string): Promise<ContactRecord> {
    const all = await this.repo.contacts();
    const match = all.find((c) => c.id === nameOrId) ?? pickByName(all, nameOrId, (c) => c.name);
    if (!match) throw new ParleyError("unknown_contact", `no contact named "${nameOrId}"`);
    return match;
  }

  async safetyNumber(
    nameOrId: string,
  ): Promise<{ contact: string; safetyNumber: string; verified: boolean }> {
    const profile = await this.profile();
    const contact = await this.findContact(nameOrId);
    const digits = await safetyNumber(
      this.crypto,
      unb64(profile.identityPublicKey),
      unb64(contact.identityKey),
    );
    return { contact: contact.name, safetyNumber: digits, verified: contact.verified };
  }

  /** Marks a contact's current identity key as checked in person (clears a key-change warning). */
  async verifyContact(nameOrId: string): Promise<ContactView> {
    return this.lock.run(async () => {
      const contact = { ...(await this.findContact(nameOrId)), verified: true, keyChanged: false };
      await this.repo.commit(this.repo.putContact(this.repo.batch(), contact));
      const conv = await this.repo.conversation(contact.conversationId);
      return this.contactView(contact, conv!);
    });
  }

  // ---- conversations -------------------------------------------------------------------------

  /** Every conversation, direct and group, for a conversation list. */
  async conversations(): Promise<ConversationView[]> {
    const profile = await this.profile();
    const contacts = new Map((await this.repo.contacts()).map((c) => [c.id, c]));
    const views: ConversationView[] = [];
    for (const c of await this.repo.conversations()) {
      if (c.kind === "direct") {
        const contact = contacts.get(c.contactId);
        if (contact) {
          views.push({
            id: c.id,
            kind: "direct",
            name: contact.name,
            canSend: !!c.sendTo,
            contactId: contact.id,
          });
        }
        continue;
      }
      const active = (c.status ?? "active") === "active";

      views.push({
        id: c.id,
        kind: "group",
        name: c.name ?? "Group",
        canSend: active,
        // From the record, not the MLS state: a list must not decode every large group's tree.
        admin: active && !!c.admins?.includes(profile.identityPublicKey),
        status: c.status ?? "active",
      });
    }
    return views.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** A contact's conversation or a group, by name or id. A name both a contact and a group have is ambiguous. */
  async findConversation(nameOrId: string): Promise<ConversationRecord> {
    const all = await this.repo.conversations();
    const byId = all.find((c) => c.id === nameOrId);
    if (byId) return byId;
    const contacts = new Map((await this.repo.contacts()).map((c) => [c.id, c]));
    const named = all.map((c) => ({
      c,
      name: c.kind === "group" ? (c.name ?? "") : (contacts.get(c.contactId)?.name ?? ""),
    }));
    const wanted = nameOrId.trim().toLowerCase();
    const exact = named.filter((n) => n.name.toLowerCase() === wanted);
    const candidates = exact.length ? exact : named.filter((n) => n.name.toLowerCase().startsWith(wanted));
    if (candidates.length === 1) return candidates[0]!.c;
    if (candidates.length > 1) {
      throw new ParleyError("ambiguous", `"${nameOrId}" names more than one conversation: use its id`);
    }
    throw new ParleyError("unknown_contact", `no contact or group named "${nameOrId}"`);
  }

  private async findGroup(nameOrId: string): Promise<ConversationRecord> {
    const all = (await this.repo.conversations()).filter((c) => c.kind === "group");
    const match = all.find((c) => c.id === nameOrId) ?? pickByName(all, nameOrId, (c) => c.name ?? "");
    if (!match) throw new ParleyError("unknown_group", `no group named "${nameOrId}"`);
    if ((match.status ?? "active") !== "active") {
      throw new ParleyError("not_member", `you are no longer a member of "${match.name}"`);
    }
    return match;
  }

  // ---- groups --------------------------------------------------------------------------------

  /** Creates a group with us as its only member and admin. Its name lives only in the MLS state. */
  async createGroup(name: string): Promise<ConversationView> {
    const groupName = parseGroupName(name);
    const profile = await this.profile();
    const queue = (await this.relay(profile.relay).createQueue({ broadcast: true })) as GroupQueue;
    const device = this.device(profile);
    return this.lock.run(async () => {
      const groupId = this.crypto.randomBytes(32);
      const metadata: GroupMetadata = { v: 1, name: groupName, admins: [profile.identityPublicKey] };
      const self = await this.engine.createKeyPackage(device);
      const state = await this.engine.createGroup(groupId, device, self, encodeGroupMetadata(metadata));
      const conversation: ConversationRecord = {
        id: b64(this.crypto.randomBytes(16)),
        kind: "group",
        groupId: b64(groupId),
        receive: queue,
        sendTo: { relay: queue.relay, sendId: queue.sendId },
        contactId: "",
        name: groupName,
        admins: metadata.admins,
        status: "active",
        createdAt: this.now(),
      };
      const batch = this.repo.batch();
      this.repo.putConversation(batch, conversation);
      this.repo.putRoute(batch, queue.queueId, { kind: "conversation", conversationId: conversation.id });
      this.saveState(batch, conversation.groupId, state);
      await this.commitBatch(batch, conversation.groupId, state);
      return {
        id: conversation.id,
        kind: "group",
        name: groupName,
        canSend: true,
        admin: true,
        status: "active",
      };
    });
  }

  /**
   * Adds contacts to a group in one commit, using a KeyPackage each of them gave us earlier.
   * `unchecked` skips our own admin check — only to prove that the other members enforce it.
   */
  async addToGroup(group: string, contactNames: string[], options: { unchecked?: boolean } = {}) {
    if (contactNames.length === 0) throw new ParleyError("empty", "name at least one contact to add");
    const profile = await this.profile();
    return this.lock.run(async () => {
      const conversation = await this.findGroup(group);
      const state = await this.loadState(conversation.groupId);
      this.requireAdmin(state, profile, options.unchecked);
      const present = new Set(this.engine.members(state).map((m) => b64(m.identityKey)));
      const picks: { contact: ContactRecord; key: string; keyPackage: string }[] = [];
      for (const name of contactNames) {
        const contact = await this.findContact(name);
        if (present.has(contact.identityKey)) {
          throw new ParleyError("already_member", `${contact.name} is already in "${conversation.name}"`);
        }
        const [stock] = await this.repo.theirKeyPackages(contact.id);
        if (!stock) {
          throw new ParleyError(
            "no_key_package",
            `no key package from ${contact.name} yet: they need to open Parley (sync) once, then try again`,
          );
        }
        picks.push({ contact, key: stock[0], keyPackage: stock[1].keyPackage });
      }
      const result = await this.engine.commit(state, { add: picks.map((p) => unb64(p.keyPackage)) });
      const batch = this.repo.batch();
      for (const p of picks) this.repo.deleteKey(batch, p.key); // each KeyPackage is used once
      this.saveState(batch, conversation.groupId, result.state);
      await this.commitBatch(batch, conversation.groupId, result.state);
      const cursor = await this.publishToGroup(conversation, result.commits);

      const welcome = b64(result.welcome!);
      for (const p of picks) {
        const ref = await this.keyPackageId(unb64(p.keyPackage));
        await this.sendContentLocked(p.contact.conversationId, {
          type: "group-invite",
          welcome,
          keyPackageRef: ref,
          queue: conversation.receive as GroupQueue,
          ...(cursor ? { cursor } : {}),
        });
      }
      return this.groupMembersOf(conversation, result.state, profile);
    });
  }

  /** Removes people (all their devices) from a group, then moves the group to a new queue. */
  async removeFromGroup(group: string, contactNames: string[]) {
    const profile = await this.profile();
    return this.lock.run(async () => {
      const conversation = await this.findGroup(group);
      const state = await this.loadState(conversation.groupId);
      this.requireAdmin(state, profile);
      const identities = await Promise.all(contactNames.map((n) => this.memberIdentity(state, n)));
      await this.removeIdentitiesLocked(conversation, state, identities);
      return this.groupMembersOf(
        await this.requireConversation(conversation.id),
        await this.loadState(conversation.groupId),
        profile,
      );
    });
  }

  private async removeIdentitiesLocked(
    conversation: ConversationRecord,
    state: GroupState,
    identities: string[],
  ) {
    const leaves = this.engine
      .members(state)
      .filter((m) => identities.includes(b64(m.identityKey)))
      .map((m) => m.leafIndex);
    if (leaves.length === 0) throw new ParleyError("not_member", `not a member of "${conversation.name}"`);
    const result = await this.engine.commit(state, { remove: leaves });
    // The removed can still read the old queue (not decrypt it): the group moves to a new queue,
    // announced in the new epoch, which the removed cannot decrypt.
    const oldQueue = conversation.receive;
    const newQueue = (await this.relay(oldQueue.relay).createQueue({ broadcast: true })) as GroupQueue;
    const moved = await this.encryptContent(result.state, { type: "group-queue", queue: newQueue });
    const updated = this.moveGroupQueue(conversation, newQueue);
    const batch = this.repo.batch();
    this.repo.putConversation(batch, updated);
    this.repo.putRoute(batch, newQueue.queueId, { kind: "conversation", conversationId: conversation.id });
    this.saveState(batch, conversation.groupId, moved.state);
    await this.commitBatch(batch, conversation.groupId, moved.state);
    await this.publishToGroup(conversation, [...result.commits, moved.message]);
  }

  /** Leaves a group: tells the others (an admin's client removes us) and forgets the group's keys. */
  async leaveGroup(group: string): Promise<void> {
    const profile = await this.profile();
    await this.lock.run(async () => {
      const conversation = await this.findGroup(group);
      const state = await this.loadState(conversation.groupId);
      const meta = decodeGroupMetadata(this.engine.metadata(state));
      const others = distinctIdentities(this.engine.members(state)).filter(
        (m) => b64(m.identityKey) !== profile.identityPublicKey,
      );
      const otherAdmins = others.filter((m) => isAdmin(meta, m.identityKey));
      if (others.length > 0 && otherAdmins.length === 0) {
        throw new ParleyError("last_admin", "you are the only admin: make someone else admin first");
      }
      if (others.length > 0) {
        const sealed = await this.encryptContent(state, { type: "group-leave" });
        await this.publishToGroup(conversation, [sealed.message]);
      }
      // Forward secrecy: without the group's keys this device cannot read what follows, or what was.
      const batch = this.repo.batch();
      this.repo.putConversation(batch, { ...conversation, status: "left" });
      this.repo.deleteGroupState(batch, conversation.groupId);
      await this.repo.commit(batch);
    });
  }

  async setGroupAdmin(group: string, contactName: string, admin: boolean) {
    const profile = await this.profile();
    return this.lock.run(async () => {
      const conversation = await this.findGroup(group);
      const state = await this.loadState(conversation.groupId);
      const meta = this.requireAdmin(state, profile);
      const identityKey =
        contactName.toLowerCase() === "me"
          ? profile.identityPublicKey
          : await this.memberIdentity(state, contactName);
      if (!this.engine.members(state).some((m) => b64(m.identityKey) === identityKey)) {
        throw new ParleyError("not_member", `${contactName} is not in "${conversation.name}"`);
      }
      const admins = admin
        ? [...new Set([...meta.admins, identityKey])]
        : meta.admins.filter((a) => a !== identityKey);
      if (admins.length === 0) throw new ParleyError("last_admin", "a group needs at least one admin");
      await this.commitMetadataLocked(conversation, state, { ...meta, admins });
      return this.groupMembersOf(conversation, await this.loadState(conversation.groupId), profile);
    });
  }

  async renameGroup(group: string, newName: string): Promise<ConversationView> {
    const name = parseGroupName(newName);
    const profile = await this.profile();
    return this.lock.run(async () => {
      const conversation = await this.findGroup(group);
      const state = await this.loadState(conversation.groupId);
      const meta = this.requireAdmin(state, profile);
      await this.commitMetadataLocked(conversation, state, { ...meta, name });
      return { id: conversation.id, kind: "group", name, canSend: true, admin: true, status: "active" };
    });
  }

  private async commitMetadataLocked(
    conversation: ConversationRecord,
    state: GroupState,
    meta: GroupMetadata,
  ) {
    const result = await this.engine.commit(state, { metadata: encodeGroupMetadata(meta) });
    const batch = this.repo.batch();
    this.repo.putConversation(batch, { ...conversation, name: meta.name, admins: meta.admins });
    this.saveState(batch, conversation.groupId, result.state);
    await this.commitBatch(batch, conversation.groupId, result.state);
    await this.publishToGroup(conversation, result.commits);
  }

  async groupMembers(group: string): Promise<GroupMemberView[]> {
    const profile = await this.profile();
    const conversation = await this.findGroup(group);
    return this.groupMembersOf(conversation, await this.loadState(conversation.groupId), profile);
  }

  private async groupMembersOf(conversation: ConversationRecord, state: GroupState, profile: ProfileRecord) {
    const meta = decodeGroupMetadata(this.engine.metadata(state));
    const contacts = new Map((await this.repo.contacts()).map((c) => [c.identityKey, c]));
    const devices = new Map<string, number>();
    for (const m of this.engine.members(state)) {
      const k = b64(m.identityKey);
      devices.set(k, (devices.get(k) ?? 0) + 1);
    }
    const views: GroupMemberView[] = [];
    for (const [identityKey, count] of devices) {
      const isMe = identityKey === profile.identityPublicKey;
      const contact = contacts.get(identityKey);
      views.push({
        name: isMe ? profile.name : await this.memberName(conversation.id, identityKey),
        identityKey,
        role: isAdmin(meta, identityKey) ? "admin" : "member",
        isMe,
        safety: isMe ? "me" : contact ? (contact.verified ? "verified" : "unverified") : "not a contact",
        devices: count,
      });
    }
    return views;
  }

  /** A member by identity key (as groupMembers gives it: they may not be our contact), else a contact. */
  private async memberIdentity(state: GroupState, nameOrKey: string): Promise<string> {
    if (this.engine.members(state).some((m) => b64(m.identityKey) === nameOrKey)) return nameOrKey;
    return (await this.findContact(nameOrKey)).identityKey;
  }

  private requireAdmin(state: GroupState, profile: ProfileRecord, unchecked = false): GroupMetadata {
    const meta = decodeGroupMetadata(this.engine.metadata(state));
    if (!meta) throw new ParleyError("corrupt", "this group has no readable metadata");
    if (!unchecked && !isAdmin(meta, profile.identityPublicKey)) {
      throw new ParleyError("not_admin", `only admins of "${meta.name}" can do that`);
    }
    return meta;
  }

  /** Deposits messages into a group's queue, in order; marks them seen so their echo is skipped. */
  private async publishToGroup(
    conversation: ConversationRecord,
    messages: Uint8Array[],
    options: { rescue?: boolean } = {},
  ): Promise<string | undefined> {
    let target = conversation;
    for (let attempt = 0; ; attempt++) {
      const relay = this.relay(target.receive.relay);
      let last: string | undefined;
      try {
        for (const m of messages) {
          last = await relay.send(target.receive.sendId, pad(m));
          await this.repo.commit(this.repo.markSeen(this.repo.batch(), target.receive.queueId, last));
        }
        return last;
      } catch (e) {
        if (!(options.rescue && attempt === 0 && e instanceof RelayError && e.code === "unknown_queue"))
          throw e;
        const moved = await this.meetOnRendezvousLocked(target.receive);
        if (!moved) throw e;
        target = moved.conversation;
      }
    }
  }

  private moveGroupQueue(conversation: ConversationRecord, queue: GroupQueue): ConversationRecord {
    return {
      ...conversation,
      receive: queue,
      sendTo: { relay: queue.relay, sendId: queue.sendId },
      // Keep reading the last queue for members who sent before they saw the move.
      previousQueues: [conversation.receive],
    };
  }

  // ---- sending -------------------------------------------------------------------------------

  async send(nameOrId: string, text: string): Promise<MessageView> {
    if (text.length === 0) throw new ParleyError("empty", "nothing to send");
    await this.profile();
    const target = await this.findConversation(nameOrId);
    const id = b64(this.crypto.randomBytes(16));
    const sentAt = this.now();
    const { record, conversation, envelope } = await this.lock.run(async () => {
      const conversation = await this.requireConversation(target.id);
      if ((conversation.status ?? "active") !== "active") {
        throw new ParleyError("not_member", `you are no longer a member of "${conversation.name}"`);
      }
      if (!conversation.sendTo) {
        throw new ParleyError("not_ready", "this contact has not finished connecting yet: sync first");
      }
      const state = await this.loadState(conversation.groupId);
      const sealed = await this.encryptContent(state, { type: "text", text }, id, sentAt);
      const record: MessageRecord = {
        id,
        conversationId: conversation.id,
        fromMe: true,
        senderIdentity: null,
        text,
        sentAt,
        receivedAt: null,
        status: "sending",
        key: this.orderKey(id),
      };
      // The ratchet moves on disk before the ciphertext leaves: a crash can lose a message,
      // never reuse a key.
      const batch = this.repo.batch();
      this.saveState(batch, conversation.groupId, sealed.state);
      this.repo.putMessage(batch, record);
      await this.commitBatch(batch, conversation.groupId, sealed.state);
      const envelope = pad(sealed.message);
      if (conversation.kind === "group") {
        // Held under the lock so that our own echo on the group queue is known as ours.
        try {
          // An application message leaves the epoch as it is: if the group's queue vanished, the
          // members' rendezvous queue (derived from this epoch) is where it belongs.
          await this.publishToGroup(conversation, [sealed.message], { rescue: true });
          record.status = "sent";
        } catch (e) {
          record.status = "failed";
          await this.repo.commit(this.repo.putMessage(this.repo.batch(), record));
          throw e;
        }
        await this.repo.commit(this.repo.putMessage(this.repo.batch(), record));
      }
      return { record, conversation, envelope };
    });
    if (conversation.kind === "direct") {
      try {
        await this.relay(conversation.sendTo!.relay).send(conversation.sendTo!.sendId, envelope);
        record.status = "sent";
      } catch (e) {
        record.status = "failed";
        await this.updateMessage(record);
        throw e;
      }
      await this.updateMessage(record);
    }
    return this.messageView(record, conversation);
  }

  private async updateMessage(record: MessageRecord): Promise<void> {
    await this.lock.run(async () => {
      const current = await this.repo.message(record.conversationId, record.id);
      // A receipt may have arrived meanwhile; never move a message's status backwards.
      if (current?.status === "delivered") return;
      await this.repo.commit(this.repo.putMessage(this.repo.batch(), record));
    });
  }

  // ---- history -------------------------------------------------------------------------------

  async messages(nameOrId: string, limit = 1000): Promise<MessageView[]> {
    await this.profile();
    const conversation = await this.findConversation(nameOrId);
    const records = await this.repo.messages(conversation.id, limit);
    return Promise.all(records.map((r) => this.messageView(r, conversation)));
  }

  // ---- receiving -----------------------------------------------------------------------------

  /** Fetches everything waiting on every queue of this device, processes it in order, acknowledges. */
  async sync(): Promise<ClientEvent[]> {
    await this.profile();
    const events: ClientEvent[] = [];
    const followups: Followup[] = [];
    // Processing can add queues (a group joined, a group moved): go round until nothing is new.
    const done = new Set<string>();
    for (let round = 0; round < 5; round++) {
      const queues = (await this.receiveQueues()).filter((q) => !done.has(q.queueId));
      if (queues.length === 0) break;
      for (const queue of queues) {
        done.add(queue.queueId);
        await this.drainQueue(queue, events, followups);
      }
    }
    events.push(...(await this.runFollowups(followups)));
    return events;
  }

  private async drainQueue(queue: QueueCredentials, events: ClientEvent[], followups: Followup[]) {
    const relay = this.relay(queue.relay);
    const broadcast = isBroadcast(queue);
    for (;;) {
      const after = broadcast ? await this.repo.cursor(queue.queueId) : undefined;
      let batch: Awaited<ReturnType<RelayHttpClient["fetchMessages"]>>;
      try {
        batch = await relay.fetchMessages(queue, after === undefined ? {} : { after });
      } catch (e) {
        if (e instanceof RelayError && e.code === "unknown_queue") {
          // A group queue we moved away from may have expired: nothing more to read there. Our
          // own 1:1 queue expired while we were away: make a new one and tell the contact.
          const renewed =
            (await this.renewDirectQueue(queue)) ??
            (await this.lock.run(() => this.meetOnRendezvousLocked(queue)))?.event;
          // sync() goes round again for queues that appeared: the new one is read in this sync.
          if (renewed) events.push(renewed);
          return;
        }
        throw e;
      }
      if (!batch.cursorFound) {
        events.push({
          type: "rejected",
          reason: "some group messages expired on the relay before this device read them",
        });
        // Said once: the cursor named a message that is gone; reading on starts from what is held.
        await this.lock.run(() => this.repo.commit(this.repo.deleteCursor(this.repo.batch(), queue.queueId)));
      }
      // Loop until the relay has nothing more: a reply is capped by count and by bytes.
      if (batch.length === 0) return;
      for (const m of batch) {
        const r = await this.receiveOne(queue, m.msgId, unb64(m.body));
        events.push(...r.events);
        followups.push(...r.followups);
        if (!broadcast) await relay.ack(queue, m.msgId).catch(ignoreAlreadyAcknowledged);
      }
    }
  }

  /**
   * Stays connected to every relay this device reads from and reports events as they happen, until
   * `signal` aborts. Reconnects by itself; picks up queues created meanwhile (even by another process).
   */
  async listen(onEvent: (event: ClientEvent) => void, signal: AbortSignal): Promise<void> {
    if (!this.env.webSocket) throw new ParleyError("no_websocket", "this platform has no WebSocket");
    const sockets = new Map<string, RelaySocket>();
    const known = new Set<string>();
    const attach = async () => {
      for (const queue of await this.receiveQueues()) {
        if (known.has(queue.queueId)) continue;
        known.add(queue.queueId);
        let socket = sockets.get(queue.relay);
        if (!socket) {
          socket = new RelaySocket(queue.relay, this.crypto, {
            webSocket: this.env.webSocket!,
            cursorFor: (q) => (isBroadcast(q) ? this.repo.cursor(q.queueId) : Promise.resolve(undefined)),
            onMessage: async (q, msgId, body) => {
              const r = await this.receiveOne(q, msgId, body);
              for (const e of r.events) onEvent(e);
              await this.runFollowups(r.followups).then(
                (more) => {
                  for (const e of more) onEvent(e);
                },
                (e) => onEvent({ type: "rejected", reason: String(e) }),
              );
              if (r.followups.length || r.events.some((e) => e.type === "group")) await attach();
            },
            onStatus: (status, detail) =>
              onEvent(detail === undefined ? { type: "status", status } : { type: "status", status, detail }),
            onError: (error) => onEvent({ type: "rejected", reason: error.message }),
          });
          sockets.set(queue.relay, socket);
          socket.start([queue]);
        } else {
          await socket.addQueue(queue);
        }
      }
    };
    await attach();
    const rescan = setInterval(() => attach().catch(() => {}), 1000);
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      signal.addEventListener("abort", () => resolve(), { once: true });
    });
    clearInterval(rescan);
    for (const s of sockets.values()) {
      await s.idle();
      s.close();
    }
  }

  private async receiveQueues(): Promise<QueueCredentials[]> {
    const queues = (await this.repo.invites()).map((i) => i.queue);
    for (const c of await this.repo.conversations()) {
      if ((c.status ?? "active") !== "active") continue;
      queues.push(c.receive, ...(c.previousQueues ?? []));
    }
    return queues;
  }

  /** Handles one delivered envelope; idempotent per (queue, msgId). Throws only on local failures. */
  async receive(queue: QueueCredentials, msgId: string, body: Uint8Array): Promise<ClientEvent[]> {
    const r = await this.receiveOne(queue, msgId, body);
    return [...r.events, ...(await this.runFollowups(r.followups))];
  }

  private async receiveOne(queue: QueueCredentials, msgId: string, body: Uint8Array): Promise<Processed> {
    return this.lock.run(async () => {
      const cursorWrite = (b: Batch) =>
        isBroadcast(queue) ? this.repo.putCursor(b, queue.queueId, msgId) : b;
      if (await this.repo.seen(queue.queueId, msgId)) {
        await this.repo.commit(cursorWrite(this.repo.batch()));
        return { events: [], followups: [] };
      }
      const work = this.repo.batch();
      let result: Processed;
      let payload: Uint8Array | undefined;
      let route: QueueRoute | undefined;
      try {
        payload = unpad(body);
        route = await this.repo.route(queue.queueId);
        if (!route) throw new ParleyError("unknown_queue", "message on a queue this device does not know");
        result =
          route.kind === "invite"
            ? await this.acceptWelcome(work, route.queueId, payload)
            : await this.processInConversation(work, route.conversationId, payload);
      } catch (e) {
        if (e instanceof MlsFutureEpochError && route?.kind === "conversation" && payload) {
          // Ahead of its commit (delivered out of order, or the commit is still on its way): kept,
          // and tried again after the next commit this conversation processes.
          work.writes.length = 0;
          result = await this.hold(work, route.conversationId, queue.queueId, msgId, payload);
          await this.repo.commit(cursorWrite(this.repo.markSeen(work, queue.queueId, msgId)));
          return result;
        }
        if (!isRejection(e)) throw e; // a local failure: leave unacknowledged, retry later
        // The message is dropped and the MLS state stays as it was: only the "seen" mark is stored.
        work.writes.length = 0;
        result = { events: [{ type: "rejected", reason: (e as Error).message }], followups: [] };
      }
      await this.repo.commit(cursorWrite(this.repo.markSeen(work, queue.queueId, msgId)));
      if (result.saved) this.repo.groupStateSaved(result.saved.groupId, result.saved.epoch);
      return result;
    });
  }

  private async acceptWelcome(batch: Batch, queueId: string, welcome: Uint8Array): Promise<Processed> {
    const invite = await this.repo.invite(queueId);
    if (!invite) throw new InviteError("a second answer to an invite that was already used was dropped");
    const state = await this.engine.joinFromWelcome(welcome, {
      publicMessage: unb64(invite.keyPackage.publicMessage),
      privateKey: unb64(invite.keyPackage.privateKey),
    });
    const own = this.engine.ownLeafIndex(state);
    const peers = this.engine.members(state).filter((m) => m.leafIndex !== own);
    if (peers.length !== 1) throw new InviteError("an invite answer must be a conversation of two");
    const peer = peers[0]!;
    const groupId = b64(state.groupId);
    // Whoever answers an invite picks the group id; one that a conversation of ours already uses
    // would overwrite that conversation's keys.
    if (await this.conversationOfGroup(groupId)) {
      throw new InviteError("an invite answer reused the id of an existing conversation: dropped");
    }
    const conversation: ConversationRecord = {
      id: b64(this.crypto.randomBytes(16)),
      kind: "direct",
      groupId,
      receive: invite.queue,
      sendTo: null, // until the intro tells us where to answer
      contactId: "",
      createdAt: this.now(),
    };
    const contact = await this.newContact(b64(peer.identityKey), "New contact", false, conversation.id);
    conversation.contactId = contact.id;
    // Single use: the KeyPackage's private keys go with the pending invite.
    this.repo.deleteInvite(batch, queueId);
    this.repo.putRoute(batch, queueId, { kind: "conversation", conversationId: conversation.id });
    this.repo.putContact(batch, contact);
    this.repo.putConversation(batch, conversation);
    this.saveState(batch, groupId, state);
    return { events: [], followups: [], saved: { groupId, epoch: state.epoch } };
  }

  private async processInConversation(batch: Batch, conversationId: string, message: Uint8Array) {
    const conversation = await this.requireConversation(conversationId);
    if ((conversation.status ?? "active") !== "active") return { events: [], followups: [] };
    const state = await this.loadState(conversation.groupId);
    if (conversation.kind === "group") {
      // Our own message, echoed back by the shared queue: already applied when we sent it.
      const sender = await this.engine.senderOf(state, message);
      if (sender !== undefined && sender === this.engine.ownLeafIndex(state))
        return { events: [], followups: [] };
    }
    const result = await this.engine.process(state, message, this.policy);
    const processed =
      conversation.kind === "direct"
        ? await this.afterDirectMessage(batch, conversation, result)
        : await this.afterGroupMessage(batch, conversation, state, result);
    if (result.kind === "application") {
      const gap = await this.noteRatchetPosition(batch, conversation, result);
      if (gap) processed.events = [...processed.events, gap];
    }
    if (result.kind === "commit" && (await this.repo.held(conversation.id, 1)).length > 0) {
      processed.followups = [...processed.followups, { kind: "retry-held", conversationId: conversation.id }];
    }
    if (result.kind === "removed") return processed; // its keys are deleted, not saved
    this.saveState(batch, conversation.groupId, result.state);
    return { ...processed, saved: { groupId: conversation.groupId, epoch: result.state.epoch } };
  }

  private async afterDirectMessage(
    batch: Batch,
    conversation: ConversationRecord,
    result: Awaited<ReturnType<MlsEngine["process"]>>,
  ): Promise<Processed> {
    const self = (await this.profile()).identityPublicKey;
    const contact = await this.repo.contact(conversation.contactId);
    if (!contact) throw new ParleyError("corrupt", "conversation without a contact");
    if (result.kind === "application") {
      if (b64(result.sender.identityKey) !== contact.identityKey) {
        throw new MlsProcessingError("message from an identity that is not this contact: dropped");
      }
      const content = decodeContent(result.plaintext);
      return this.applyDirectContent(batch, conversation, contact, content.id, content.sentAt, content.body);
    }
    // A 1:1 conversation holds exactly the two identities; anyone else is a warning sign.
    const known = new Set([contact.identityKey, self]);
    if (this.engine.members(result.state).some((m) => !known.has(b64(m.identityKey)))) {
      const changed = { ...contact, keyChanged: true, verified: false };
      this.repo.putContact(batch, changed);
      return {
        events: [
          { type: "contact", contact: this.contactView(changed, conversation), change: "key-changed" },
        ],
        followups: [],
      };
    }
    return { events: [], followups: [] };
  }

  private async applyDirectContent(
    batch: Batch,
    conversation: ConversationRecord,
    contact: ContactRecord,
    id: string,
    sentAt: number,
    body: Body,
  ): Promise<Processed> {
    const none: Processed = { events: [], followups: [] };
    switch (body.type) {
      case "intro": {
        const renamed = {
          ...contact,
          name: contact.named ? contact.name : await this.uniqueName(body.name),
          named: true,
        };
        const updated = { ...conversation, sendTo: body.replyTo };
        this.repo.putContact(batch, renamed);
        this.repo.putConversation(batch, updated);
        return {
          events: [{ type: "contact", contact: this.contactView(renamed, updated), change: "added" }],
          followups: [{ kind: "key-packages", conversationId: conversation.id, count: KEY_PACKAGE_STOCK }],
        };
      }
      case "text": {
        const record = await this.storeReceived(
          batch,
          conversation,
          id,
          sentAt,
          body.text,
          contact.identityKey,
        );
        if (!record) return none;
        return {
          events: [{ type: "message", message: await this.messageView(record, conversation) }],
          followups: [{ kind: "receipt", conversationId: conversation.id, ids: [id] }],
        };
      }
      case "receipt": {
        const delivered: string[] = [];
        for (const mid of body.ids) {
          const m = await this.repo.message(conversation.id, mid);
          if (m?.fromMe && m.status !== "delivered") {
            this.repo.putMessage(batch, { ...m, status: "delivered" });
            delivered.push(mid);
          }
        }
        return delivered.length
          ? {
              events: [{ type: "delivered", conversationId: conversation.id, ids: delivered }],
              followups: [],
            }
          : none;
      }
      case "key-packages": {
        // Checked now, so a bad one fails here rather than when someone wants to add them.
        for (const kp of body.keyPackages) {
          const member = await this.engine.inspectKeyPackage(unb64(kp)).catch(() => undefined);
          if (!member || b64(member.identityKey) !== contact.identityKey) {
            throw new ContentError("a key package that is not this contact's was dropped");
          }
          const ref = await this.keyPackageId(unb64(kp));
          this.repo.putTheirKeyPackage(batch, ref, {
            contactId: contact.id,
            keyPackage: kp,
            receivedAt: this.now(),
          });
        }
        return none;
      }
      case "reply-to":
        // The contact's receive queue was renewed (see renewDirectQueue): answer there from now on.
        this.repo.putConversation(batch, { ...conversation, sendTo: body.replyTo });
        return none;
      case "group-invite":
        return this.joinGroup(batch, conversation, contact, body);
      default:
        throw new ContentError(`"${body.type}" does not belong in a 1:1 conversation`);
    }
  }

  private async joinGroup(
    batch: Batch,
    via: ConversationRecord,
    inviter: ContactRecord,
    invite: Extract<Body, { type: "group-invite" }>,
  ): Promise<Processed> {
    const own = await this.repo.ownKeyPackage(invite.keyPackageRef);
    if (!own)
      throw new ContentError("a group invite for a key package this device does not hold was dropped");
    let state: GroupState;
    try {
      state = await this.engine.joinFromWelcome(unb64(invite.welcome), {
        publicMessage: unb64(own.publicMessage),
        privateKey: unb64(own.privateKey),
      });
    } catch (e) {
      throw new MlsProcessingError(`group invite rejected: ${(e as Error).message}`);
    }
    const meta = decodeGroupMetadata(this.engine.metadata(state));
    if (!meta) throw new ContentError("a group without readable metadata was not joined");
    // Whoever adds must be an admin: the other members would reject the commit anyway.
    if (!isAdmin(meta, inviter.identityKey)) {
      throw new ContentError(`${inviter.name} is not an admin of "${meta.name}": invite dropped`);
    }
    const groupId = b64(state.groupId);
    const existing = await this.conversationOfGroup(groupId);
    if (existing) {
      // A group id is no secret: every member, and everyone ever removed, knows it and can build a
      // new MLS group under it. An invite must never replace a conversation we have: only a group
      // we are no longer in may be re-joined, and only on the word of one of its admins as we last
      // knew them (a member who was never an admin cannot "re-create" the group around us).
      const activeGroup = existing.kind === "group" && (existing.status ?? "active") === "active";
      const rejoin =
        existing.kind === "group" && !activeGroup && (existing.admins ?? []).includes(inviter.identityKey);
      if (!rejoin) {
        throw new ContentError(
          activeGroup
            ? `${inviter.name} sent an invite to a group this device is already in ("${existing.name ?? ""}"): ignored`
            : `${inviter.name} sent an invite that reuses the id of a conversation this device has: ignored`,
        );
      }
    }
    const conversation: ConversationRecord = {
      // A group we have not had gets a fresh local id; a re-join keeps its history.
      id: existing?.id ?? b64(this.crypto.randomBytes(16)),
      kind: "group",
      groupId,
      receive: invite.queue,
      sendTo: { relay: invite.queue.relay, sendId: invite.queue.sendId },
      contactId: "",
      name: meta.name,
      admins: meta.admins,
      status: "active",
      createdAt: this.now(),
    };
    this.repo.deleteOwnKeyPackage(batch, invite.keyPackageRef);
    this.repo.putConversation(batch, conversation);
    this.repo.putRoute(batch, invite.queue.queueId, {
      kind: "conversation",
      conversationId: conversation.id,
    });
    // Our membership starts after the commit that added us; older messages are not for us.
    if (invite.cursor) this.repo.putCursor(batch, invite.queue.queueId, invite.cursor);
    this.saveState(batch, groupId, state);
    return {
      events: [
        {
          type: "group",
          conversationId: conversation.id,
          name: meta.name,
          change: "joined",
          detail: inviter.name,
        },
      ],
      followups: [
        { kind: "key-packages", conversationId: via.id, count: 1 },
        { kind: "group-profile", conversationId: conversation.id },
      ],
      saved: { groupId, epoch: state.epoch },
    };
  }

  private async afterGroupMessage(
    batch: Batch,
    conversation: ConversationRecord,
    before: GroupState,
    result: Awaited<ReturnType<MlsEngine["process"]>>,
  ): Promise<Processed> {
    const name = conversation.name ?? "Group";
    const none: Processed = { events: [], followups: [] };
    if (result.kind === "removed") {
      this.repo.putConversation(batch, { ...conversation, status: "removed" });
      this.repo.deleteGroupState(batch, conversation.groupId);
      return {
        events: [{ type: "group", conversationId: conversation.id, name, change: "removed" }],
        followups: [],
      };
    }
    if (result.kind === "commit") {
      const events: ClientEvent[] = [];
      const meta = decodeGroupMetadata(this.engine.metadata(result.state));
      if (result.metadata && meta) {
        const old = decodeGroupMetadata(this.engine.metadata(before));
        if (old?.name !== meta.name) {
          events.push({ type: "group", conversationId: conversation.id, name: meta.name, change: "renamed" });
        }
        if (old?.admins.join() !== meta.admins.join()) {
          events.push({ type: "group", conversationId: conversation.id, name: meta.name, change: "roles" });
        }
        this.repo.putConversation(batch, { ...conversation, name: meta.name, admins: meta.admins });
      }
      if (result.added.length || result.removed.length) {
        const detail = `${result.added.length} added, ${result.removed.length} removed`;
        events.push({
          type: "group",
          conversationId: conversation.id,
          name: meta?.name ?? name,
          change: "members",
          detail,
        });
      }
      return { events, followups: [] };
    }
    const sender = b64(result.sender.identityKey);
    const content = decodeContent(result.plaintext);
    const body = content.body;
    switch (body.type) {
      case "text": {
        const record = await this.storeReceived(
          batch,
          conversation,
          content.id,
          content.sentAt,
          body.text,
          sender,
        );
        return record
          ? {
              events: [{ type: "message", message: await this.messageView(record, conversation) }],
              followups: [],
            }
          : none;
      }
      case "profile":
        this.repo.putMemberName(batch, conversation.id, sender, body.name);
        return none;
      case "group-queue": {
        if (!isAdmin(decodeGroupMetadata(this.engine.metadata(result.state)), sender)) {
          throw new ContentError("only an admin may move the group to another queue");
        }
        this.repo.putConversation(batch, this.moveGroupQueue(conversation, body.queue));
        this.repo.putRoute(batch, body.queue.queueId, {
          kind: "conversation",
          conversationId: conversation.id,
        });
        return {
          events: [{ type: "group", conversationId: conversation.id, name, change: "moved" }],
          followups: [],
        };
      }
      case "group-leave": {
        const profile = await this.profile();
        return this.isDesignatedAdmin(result.state, profile, sender)
          ? {
              events: [],
              followups: [{ kind: "remove-leaver", conversationId: conversation.id, identityKey: sender }],
            }
          : none;
      }
      default:
        throw new ContentError(`"${body.type}" does not belong in a group`);
    }
  }

  /** One admin acts on a leave, not all of them at once: the online admin with the lowest leaf. */
  private isDesignatedAdmin(state: GroupState, profile: ProfileRecord, leaver: string): boolean {
    const meta = decodeGroupMetadata(this.engine.metadata(state));
    const admins = this.engine
      .members(state)
      .filter((m) => isAdmin(meta, m.identityKey) && b64(m.identityKey) !== leaver)
      .sort((a, b) => a.leafIndex - b.leafIndex);
    return admins.length > 0 && b64(admins[0]!.identityKey) === profile.identityPublicKey;
  }

  private async storeReceived(
    batch: Batch,
    conversation: ConversationRecord,
    id: string,
    sentAt: number,
    text: string,
    senderIdentity: string,
  ): Promise<MessageRecord | undefined> {
    if (await this.repo.message(conversation.id, id)) return undefined; // the same content twice
    const record: MessageRecord = {
      id,
      conversationId: conversation.id,
      fromMe: false,
      senderIdentity,
      text,
      sentAt,
      receivedAt: this.now(),
      status: "received",
      key: this.orderKey(id, shownAt(sentAt, this.now())),
    };
    this.repo.putMessage(batch, record);
    return record;
  }

  // ---- follow-ups: what a delivery asks us to send, once it is stored ---------------------------

  /** Returns events for changes the follow-ups made themselves (removing a member who left). */
  private async runFollowups(followups: Followup[]): Promise<ClientEvent[]> {
    const events: ClientEvent[] = [];
    // What was received is stored already: a follow-up that fails (the contact's queue is gone,
    // the relay is down) is reported, never allowed to hide the messages that asked for it.
    const attempt = async (conversationId: string, what: string, work: () => Promise<void>) => {
      try {
        await work();
      } catch (e) {
        events.push({
          type: "warning",
          code: "followup_failed",
          conversationId,
          detail: `${what} could not be sent: ${(e as Error).message}`,
        });
      }
    };
    const receipts = new Map<string, string[]>();
    for (const f of followups) {
      if (f.kind === "receipt")
        receipts.set(f.conversationId, [...(receipts.get(f.conversationId) ?? []), ...f.ids]);
    }
    for (const [conversationId, ids] of receipts) {
      for (let i = 0; i < ids.length; i += 256) {
        await attempt(conversationId, "a delivery receipt", () =>
          this.lock.run(() =>
            this.sendContentLocked(conversationId, { type: "receipt", ids: ids.slice(i, i + 256) }),
          ),
        );
      }
    }
    for (const f of followups) {
      if (f.kind === "retry-held") events.push(...(await this.retryHeld(f.conversationId)));
      if (f.kind === "key-packages")
        await attempt(f.conversationId, "key packages", () =>
          this.lock.run(() => this.giveKeyPackagesLocked(f.conversationId, f.count)),
        );
      if (f.kind === "group-profile") {
        const profile = await this.profile();
        await attempt(f.conversationId, "our name in the group", () =>
          this.lock.run(async () => {
            const c = await this.requireConversation(f.conversationId);
            const sealed = await this.encryptContent(await this.loadState(c.groupId), {
              type: "profile",
              name: profile.name,
            });
            const batch = this.repo.batch();
            this.saveState(batch, c.groupId, sealed.state);
            await this.commitBatch(batch, c.groupId, sealed.state);
            await this.publishToGroup(c, [sealed.message]);
          }),
        );
      }
      if (f.kind === "remove-leaver") {
        await attempt(f.conversationId, "the removal of a member who left", () =>
          this.lock.run(async () => {
            const c = await this.requireConversation(f.conversationId);
            const state = await this.loadState(c.groupId);
            if (this.engine.members(state).some((m) => b64(m.identityKey) === f.identityKey)) {
              await this.removeIdentitiesLocked(c, state, [f.identityKey]);
              // Our own commit never echoes back as an event: say here that the members changed.
              const name = c.name ?? "Group";
              events.push({
                type: "group",
                conversationId: c.id,
                name,
                change: "members",
                detail: "0 added, 1 removed",
              });
            }
          }),
        );
      }
    }
    return events;
  }

  /**
   * Gap detection: each sender device's application messages count 0, 1, 2… per epoch inside the
   * encryption (the MLS generation), so a relay that drops a message leaves a jump that this device
   * sees when the next one arrives. A message that arrives late (lower generation) fills its gap
   * silently. The first message seen from a device sets the mark without a warning.
   */
  private async noteRatchetPosition(
    batch: Batch,
    conversation: ConversationRecord,
    result: Extract<Awaited<ReturnType<MlsEngine["process"]>>, { kind: "application" }>,
  ): Promise<ClientEvent | undefined> {
    const device = b64(result.sender.deviceKey);
    const seen = await this.repo.ratchetSeen(conversation.id, device);
    const seenEpoch = seen ? BigInt(seen.epoch) : undefined;
    let missing = 0;
    if (seen && seenEpoch === result.epoch) {
      missing = Math.max(0, result.generation - seen.generation - 1);
      if (result.generation <= seen.generation) return undefined; // late, or the same: no new mark
    } else if (seenEpoch !== undefined && result.epoch < seenEpoch) {
      return undefined; // a late message of an earlier epoch
    } else if (seenEpoch !== undefined) {
      missing = result.generation; // a new epoch: its first messages should have come first
    }
    this.repo.putRatchetSeen(batch, conversation.id, device, result.epoch, result.generation);
    if (missing === 0) return undefined;
    const who = await this.memberName(conversation.id, b64(result.sender.identityKey));
    return {
      type: "warning",
      code: "messages_missing",
      conversationId: conversation.id,
      detail: `${missing} message${missing === 1 ? "" : "s"} from ${who} did not arrive (the relay may have dropped ${missing === 1 ? "it" : "them"})`,
    };
  }

  /**
   * The group's queue vanished from the relay (nobody used it for the TTL, or the relay lost it). The
   * members cannot tell each other where to go next — that needs a queue — so each derives the same
   * one: a rendezvous queue whose key is MLS-Exporter("parley group rendezvous queue", groupId, 32)
   * of the current epoch, and whose ids the relay computes from that key. Whoever comes back first
   * creates it; everyone after finds it. Only members of this epoch can derive it: removed members
   * cannot follow. Call with the profile lock held.
   */
  private async meetOnRendezvousLocked(
    vanished: QueueCredentials,
  ): Promise<{ conversation: ConversationRecord; event: ClientEvent } | undefined> {
    const conversation = await this.conversationReceivingOn(vanished.queueId);
    if (conversation?.kind !== "group" || (conversation.status ?? "active") !== "active") return undefined;
    const state = await this.loadState(conversation.groupId);
    const seed = await this.engine.exportSecret(state, RENDEZVOUS_LABEL, unb64(conversation.groupId), 32);
    const queue = (await this.relay(vanished.relay).createQueue({ rendezvousSeed: seed })) as GroupQueue;
    seed.fill(0);
    // The same id: this rendezvous queue itself had vanished and is now there again, empty.
    const updated =
      queue.queueId === vanished.queueId ? conversation : this.moveGroupQueue(conversation, queue);
    const batch = this.repo.batch();
    this.repo.putConversation(batch, updated);
    this.repo.putRoute(batch, queue.queueId, { kind: "conversation", conversationId: conversation.id });
    this.repo.deleteCursor(batch, vanished.queueId);
    await this.repo.commit(batch);
    const name = conversation.name ?? "the group";
    return {
      conversation: updated,
      event: {
        type: "warning",
        code: "queue_renewed",
        conversationId: conversation.id,
        detail: `the queue of "${name}" had expired on the relay: the group carries on in one every member finds by itself`,
      },
    };
  }

  /** Keeps a message of a later epoch (see receiveOne); past the cap it is rejected instead. */
  private async hold(
    batch: Batch,
    conversationId: string,
    queueId: string,
    msgId: string,
    payload: Uint8Array,
  ): Promise<Processed> {
    if ((await this.repo.held(conversationId, MAX_HELD_MESSAGES)).length >= MAX_HELD_MESSAGES) {
      return {
        events: [{ type: "rejected", reason: "too many messages from later epochs are waiting: dropped" }],
        followups: [],
      };
    }
    this.repo.putHeld(batch, conversationId, this.orderKey(msgId), {
      queueId,
      msgId,
      payload: b64(payload),
      heldAt: this.now(),
    });
    return { events: [], followups: [] };
  }

  /** Processes held messages whose epoch has been reached, until a round makes no progress. */
  private async retryHeld(conversationId: string): Promise<ClientEvent[]> {
    const events: ClientEvent[] = [];
    const followups: Followup[] = [];
    for (let progressed = true; progressed; ) {
      progressed = false;
      for (const [key, held] of await this.repo.held(conversationId)) {
        const r = await this.lock.run(async (): Promise<Processed | undefined> => {
          const work = this.repo.batch();
          let result: Processed;
          try {
            result = await this.processInConversation(work, conversationId, unb64(held.payload));
          } catch (e) {
            if (e instanceof MlsFutureEpochError) return undefined; // still ahead: keep it
            if (!isRejection(e)) throw e;
            work.writes.length = 0;
            result = { events: [{ type: "rejected", reason: (e as Error).message }], followups: [] };
          }
          await this.repo.commit(this.repo.deleteKey(work, key));
          if (result.saved) this.repo.groupStateSaved(result.saved.groupId, result.saved.epoch);
          return result;
        });
        if (!r) continue;
        progressed = true;
        events.push(...r.events);
        followups.push(...r.followups.filter((f) => f.kind !== "retry-held"));
      }
    }
    return [...events, ...(await this.runFollowups(followups))];
  }

  /**
   * Our receive queue of a 1:1 conversation vanished from the relay (it expired while this device
   * was away longer than the relay's TTL, or the relay lost it): a new queue, and its address sent
   * to the contact inside the conversation's encryption, so the conversation carries on. Returns
   * undefined for queues that are not a direct conversation's current one.
   */
  private async renewDirectQueue(queue: QueueCredentials): Promise<ClientEvent | undefined> {
    const conversation = await this.conversationReceivingOn(queue.queueId);
    if (conversation?.kind !== "direct") return undefined;
    const fresh = await this.relay(queue.relay).createQueue();
    await this.lock.run(async () => {
      const current = await this.requireConversation(conversation.id);
      if (current.receive.queueId !== queue.queueId) return; // renewed meanwhile
      const batch = this.repo.batch();
      this.repo.putConversation(batch, { ...current, receive: fresh });
      this.repo.putRoute(batch, fresh.queueId, { kind: "conversation", conversationId: current.id });
      await this.repo.commit(batch);
    });
    const contact = await this.repo.contact(conversation.contactId);
    try {
      await this.lock.run(() =>
        this.sendContentLocked(conversation.id, {
          type: "reply-to",
          replyTo: { relay: fresh.relay, sendId: fresh.sendId },
        }),
      );
    } catch (e) {
      return {
        type: "warning",
        code: "followup_failed",
        conversationId: conversation.id,
        detail: `the queue for ${contact?.name ?? "a contact"} expired on the relay; a new one was made but its address could not be sent: ${(e as Error).message}`,
      };
    }
    return {
      type: "warning",
      code: "queue_renewed",
      conversationId: conversation.id,
      detail: `the queue for ${contact?.name ?? "a contact"} had expired on the relay: a new one was made and sent to them`,
    };
  }

  /** Gives a contact KeyPackages to add us to groups with; we keep their private halves. */
  private async giveKeyPackagesLocked(conversationId: string, count: number): Promise<void> {
    const conversation = await this.requireConversation(conversationId);
    if (!conversation.sendTo) return;
    const device = this.device(await this.profile());
    const batch = this.repo.batch();
    const keyPackages: string[] = [];
    for (let i = 0; i < count; i++) {
      const kp = await this.engine.createKeyPackage(device);
      const ref = await this.keyPackageId(kp.publicMessage);
      this.repo.putOwnKeyPackage(batch, ref, {
        publicMessage: b64(kp.publicMessage),
        privateKey: b64(kp.privateKey),
      });
      keyPackages.push(b64(kp.publicMessage));
    }
    await this.repo.commit(batch);
    await this.sendContentLocked(conversationId, { type: "key-packages", keyPackages });
  }

  /** Encrypts and sends a control message in a 1:1 conversation. The caller holds the lock. */
  private async sendContentLocked(conversationId: string, body: Body): Promise<void> {
    const conversation = await this.requireConversation(conversationId);
    if (!conversation.sendTo) return;
    const sealed = await this.encryptContent(await this.loadState(conversation.groupId), body);
    const batch = this.repo.batch();
    this.saveState(batch, conversation.groupId, sealed.state);
    await this.commitBatch(batch, conversation.groupId, sealed.state);
    await this.relay(conversation.sendTo.relay).send(conversation.sendTo.sendId, pad(sealed.message));
  }

  // ---- helpers -------------------------------------------------------------------------------

  private async encryptContent(state: GroupState, body: Body, id?: string, sentAt?: number) {
    const content = {
      v: 1 as const,
      id: id ?? b64(this.crypto.randomBytes(16)),
      sentAt: sentAt ?? this.now(),
      body,
    };
    return this.engine.encrypt(state, encodeContent(content));
  }

  /** A stable local id for a KeyPackage: SHA-256 of its encoding. */
  private async keyPackageId(publicMessage: Uint8Array): Promise<string> {
    return b64(await this.crypto.sha256(publicMessage));
  }

  private async loadState(groupId: string): Promise<GroupState> {
    const serialized = await this.repo.groupState(groupId);
    if (!serialized) throw new ParleyError("corrupt", "the group state of this conversation is missing");
    return this.engine.deserialize(serialized);
  }

  private saveState(batch: Batch, groupId: string, state: GroupState): void {
    this.repo.putGroupState(batch, groupId, this.engine.serialize(state));
  }

  private async commitBatch(batch: Batch, groupId: string, state: GroupState): Promise<void> {
    await this.repo.commit(batch);
    this.repo.groupStateSaved(groupId, state.epoch);
  }

  /** The conversation whose current receive queue this is (not one it moved away from), if any. */
  private async conversationReceivingOn(queueId: string): Promise<ConversationRecord | undefined> {
    const route = await this.repo.route(queueId);
    if (route?.kind !== "conversation") return undefined;
    const conversation = await this.repo.conversation(route.conversationId);
    return conversation?.receive.queueId === queueId ? conversation : undefined;
  }

  /** The conversation (direct or group, in any status) whose MLS group has this id, if any. */
  private async conversationOfGroup(groupId: string): Promise<ConversationRecord | undefined> {
    return (await this.repo.conversations()).find((c) => c.groupId === groupId);
  }

  private async requireConversation(id: string): Promise<ConversationRecord> {
    const c = await this.repo.conversation(id);
    if (!c) throw new ParleyError("unknown_conversation", "no such conversation");
    return c;
  }

  private async newContact(identityKey: string, name: string, named: boolean, conversationId: string) {
    const existing = (await this.repo.contacts()).find((c) => c.identityKey === identityKey);
    const contact: ContactRecord = {
      id: b64(this.crypto.randomBytes(12)),
      name: await this.uniqueName(name),
      named,
      identityKey,
      conversationId,
      // Someone we already knew: carry over what we had verified.
      verified: existing?.verified ?? false,
      keyChanged: false,
      addedAt: this.now(),
    };
    return contact;
  }

  private async uniqueName(wanted: string): Promise<string> {
    const taken = new Set((await this.repo.contacts()).map((c) => c.name.toLowerCase()));
    if (!taken.has(wanted.toLowerCase())) return wanted;
    for (let i = 2; ; i++) if (!taken.has(`${wanted} (${i})`.toLowerCase())) return `${wanted} (${i})`;
  }

  /** What we call a group member: our name for them if they are a contact, else the name they gave. */
  private async memberName(conversationId: string, identityKey: string): Promise<string> {
    const contact = (await this.repo.contacts()).find((c) => c.identityKey === identityKey);
    if (contact) return contact.name;
    const chosen = await this.repo.memberName(conversationId, identityKey);
    return chosen ? `${chosen} (not a contact)` : `Member ${identityKey.slice(0, 6)}`;
  }

  /** History lists by this key: the time a message belongs at, then its id. */
  private orderKey(id: string, at = this.now()): string {
    return `${Math.max(0, Math.floor(at)).toString().padStart(15, "0")}-${id}`;
  }

  private contactView(c: ContactRecord, conv: ConversationRecord): ContactView {
    return {
      id: c.id,
      name: c.name,
      verified: c.verified,
      keyChanged: c.keyChanged,
      conversationId: c.conversationId,
      canSend: conv.sendTo !== null,
    };
  }

  private async messageView(r: MessageRecord, conversation: ConversationRecord): Promise<MessageView> {
    const contact =
      conversation.kind === "direct" ? await this.repo.contact(conversation.contactId) : undefined;
    const conversationName =
      conversation.kind === "group" ? (conversation.name ?? "Group") : (contact?.name ?? "?");
    const from = r.fromMe
      ? "me"
      : conversation.kind === "direct"
        ? conversationName
        : await this.memberName(conversation.id, r.senderIdentity ?? "");
    return {
      conversation: conversationName,
      conversationId: r.conversationId,
      kind: conversation.kind,
      id: r.id,
      from,
      fromMe: r.fromMe,
      text: r.text,
      sentAt: new Date(r.sentAt).toISOString(),
      receivedAt: r.receivedAt === null ? null : new Date(r.receivedAt).toISOString(),
      status: r.status,
    };
  }
}

const isBroadcast = (q: QueueCredentials): boolean => (q as { broadcast?: boolean }).broadcast === true;

/** Our own display name: one line, 1 to 64 characters, no control or bidi characters (text-safety.ts). */
function parseName(name: string): string {
  const parsed = DisplayName.safeParse(name);
  if (!parsed.success)
    throw new ParleyError("bad_name", parsed.error.issues[0]?.message ?? "bad display name");
  return parsed.data;
}

/** A group name we choose: the same rules as a display name, up to 100 characters. */
function parseGroupName(name: string): string {
  const parsed = GroupName.safeParse(name);
  if (!parsed.success) throw new ParleyError("bad_name", parsed.error.issues[0]?.message ?? "bad group name");
  return parsed.data;
}

/** Exact (case-insensitive) name first, else an unambiguous prefix. */
function pickByName<T>(items: T[], wanted: string, nameOf: (t: T) => string): T | undefined {
  const w = wanted.trim().toLowerCase();
  const exact = items.find((i) => nameOf(i).toLowerCase() === w);
  if (exact) return exact;
  const prefixed = items.filter((i) => nameOf(i).toLowerCase().startsWith(w));
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

/** An ack that raced another (listen and sync at once) finds the message gone: that is success. */
function ignoreAlreadyAcknowledged(e: unknown): void {
  if (!(e instanceof RelayError && e.code === "unknown_message")) throw e;
}

/** Errors that mean "this message is bad", as opposed to "this device could not store it". */
/**
 * Where a received message goes in history: at the time its sender stamped inside the encryption,
 * so a relay that holds messages back or delivers them out of order cannot change the order shown.
 * The sender's clock is clamped to [received − MAX_DELIVERY_DELAY_MS, received]: a message is never
 * placed in the future, nor buried further back than a relay can hold a message anyway.
 */
export const MAX_DELIVERY_DELAY_MS = 14 * 24 * 3_600_000;
function shownAt(sentAt: number, receivedAt: number): number {
  return Math.min(receivedAt, Math.max(receivedAt - MAX_DELIVERY_DELAY_MS, sentAt));
}

function isRejection(e: unknown): boolean {
  return (
    e instanceof MlsProcessingError ||
    e instanceof PaddingError ||
    e instanceof ContentError ||
    e instanceof InviteError ||
    (e instanceof ParleyError && e.code === "unknown_queue")
  );
}

export type { Member };
