/**
 * ParleyClient: one device's view of its contacts, groups and conversations. A facade: each
 * method opens the profile (running local migrations once) and delegates to an operation over a
 * ClientContext (context.ts). What each operation does, and the rules they all keep, is in its file.
 */
import { ParleyError } from "../errors.js";
import { createIdentity } from "../identity/identity-key.js";
import { normalizeRelayUrl } from "../relay-client/relay-http.js";
import type { QueueCredentials } from "../relay-client/signing.js";
import { migrate } from "../store/migrations.js";
import type { ContactRecord, ConversationRecord, ProfileRecord } from "../store/records.js";
import { b64, type ProfileRepository } from "../store/repository.js";
import { type DeletedContact, deleteContact } from "./contact-delete.js";
import * as contactOps from "./contacts.js";
import {
  type ClientContext,
  type ClientEnvironment,
  createContext,
  deviceOf,
  requireProfile,
} from "./context.js";
import * as conversationOps from "./conversations.js";
import {
  awaitLinkRequest,
  type CompleteLinkOptions,
  cancelDeviceLink,
  completeLink,
  createDeviceLink,
  type LinkOffer,
  type LinkRequest,
  type LinkResult,
} from "./devices/link-existing.js";
import {
  beginDeviceLink,
  type DeviceLinkResult,
  finishDeviceLink,
  type PendingDeviceLink,
} from "./devices/link-new.js";
import { type DeviceView, listDevices } from "./devices/list.js";
import { type RevokeResult, revokeDevice } from "./devices/revoke.js";
import type { ClientEvent } from "./events.js";
import { sweepExpired, sweepWhileListening } from "./expire/sweep.js";
import { type ExpireSeconds, setExpiry } from "./expire/timer.js";
import { type DownloadTarget, deleteFile, files, type GetFileOptions, getFile } from "./files/get-file.js";
import { type SendFileInput, type SentFile, sendFile } from "./files/send-file.js";
import { type JoinRequestedView, joinGroupByLink } from "./group-links/join.js";
import {
  createGroupLink,
  currentGroupLink,
  type GroupLinkOptions,
  type GroupLinkView,
  revokeGroupLink,
} from "./group-links/link.js";
import {
  approveJoinRequest,
  declineJoinRequest,
  type JoinRequestView,
  listJoinRequests,
} from "./group-links/requests.js";
import * as admin from "./groups/admin.js";
import { groupMembers } from "./groups/members.js";
import { acceptInvite, createInvite } from "./invites.js";
import { listen } from "./listen.js";
import { findContact, findConversation, messageView, peopleOf } from "./lookup.js";
import * as actions from "./messages/actions.js";
import { keyPackageId } from "./mls-state.js";
import { parseName } from "./names.js";
import { send, sendBody, sendContentLocked } from "./outbox.js";
import { settleOutbox } from "./outbox-delivery.js";
import * as audienceOps from "./posts/audiences.js";
import { type FeedOptions, feed, type PostView, purgeExpired } from "./posts/feed.js";
import { commentOnPost, likePost } from "./posts/interactions.js";
import { deletePost, type PostInput, publishPost } from "./posts/publish.js";
import { quietFeedGroups, withoutFeedGroupEvents } from "./posts/quiet.js";
import { setProfileName } from "./profile-name.js";
import { setProfilePhoto } from "./profile-photo.js";
import * as receipts from "./receipts.js";
import { acceptKeyChange } from "./reset/accept-key.js";
import { type ResetResult, resetKeys } from "./reset/reset.js";
import { type SearchOptions, searchMessages } from "./search.js";
import { holdsSendingAhead, releaseSendingAhead } from "./sending-ahead.js";
import { receive, sync } from "./sync.js";
import type { ContactView, ConversationView, FileView, GroupMemberView, MessageView } from "./views.js";

export type { ClientEnvironment } from "./context.js";

export class ParleyClient {
  readonly repo: ProfileRepository;
  private readonly ctx: ClientContext;
  private opened: Promise<void> | undefined;

  constructor(env: ClientEnvironment) {
    this.ctx = createContext(env);
    this.repo = this.ctx.repo;
  }

  /** Brings the profile's local layout up to date, once per client (store/migrations.ts). */
  private open(): Promise<void> {
    this.opened ??= this.ctx.lock
      .run(async () => {
        await migrate(this.ctx.repo.kv, {
          crypto: this.ctx.crypto,
          ...(this.ctx.loadTsMlsConverter ? { loadTsMlsConverter: this.ctx.loadTsMlsConverter } : {}),
        });
      })
      .catch((e) => {
        this.opened = undefined;
        throw e;
      });
    return this.opened;
  }

  private async run<T>(op: (ctx: ClientContext) => Promise<T>): Promise<T> {
    await this.open();
    return op(this.ctx);
  }

  // ---- profile -------------------------------------------------------------------------------

  async init(name: string, relay: string): Promise<ProfileRecord> {
    const displayName = parseName(name);
    const relayUrl = normalizeRelayUrl(relay);
    return this.run((ctx) =>
      ctx.lock.run(async () => {
        if (await ctx.repo.profile()) throw new ParleyError("exists", {});
        const { identity, device } = await createIdentity(ctx.crypto);
        const profile: ProfileRecord = {
          v: 1,
          name: displayName,
          relay: relayUrl,
          identityPublicKey: b64(identity.publicKey),
          identitySecretKey: b64(identity.secretKey),
          deviceKey: b64(device.deviceKey),
          deviceSecretKey: b64(device.deviceSecretKey),
          certificate: b64(device.certificate),
          createdAt: ctx.now(),
        };
        await ctx.repo.commit(ctx.repo.putProfile(ctx.repo.batch(), profile));
        return profile;
      }),
    );
  }

  profile = (): Promise<ProfileRecord> => this.run(requireProfile);
  /** Changes our display name and tells every contact and group, end to end (client/profile-name.ts). */
  setProfileName = (name: string): Promise<{ profile: ProfileRecord; events: ClientEvent[] }> =>
    this.run((ctx) => setProfileName(ctx, name));
  /** Sets (`null`: removes) our profile photo and sends it to every contact (client/profile-photo.ts). */
  setProfilePhoto = (bytes: Uint8Array | null): Promise<{ profile: ProfileRecord; events: ClientEvent[] }> =>
    this.run((ctx) => setProfilePhoto(ctx, bytes));

  /**
   * Throws `relay_unreachable` unless a Parley relay answers at `relay`. The CLI asks before
   * `init`, so that a mistyped address is caught before a profile exists (issue 14).
   */
  async checkRelay(relay: string): Promise<string> {
    const url = normalizeRelayUrl(relay);
    const answer = await this.ctx.relay(url).probe();
    if (answer !== "ok") throw new ParleyError("relay_unreachable", { relay: url, problem: answer });
    return url;
  }

  /**
   * Moves the profile to another relay (checked first): new queues and invites go there. Queues made
   * on the old one stay where they are (each names its relay), so conversations carry on.
   */
  async setRelay(relay: string): Promise<ProfileRecord> {
    const url = await this.checkRelay(relay);
    return this.run((ctx) =>
      ctx.lock.run(async () => {
        const profile = { ...(await requireProfile(ctx)), relay: url };
        await ctx.repo.commit(ctx.repo.putProfile(ctx.repo.batch(), profile));
        return profile;
      }),
    );
  }

  // ---- invitations and contacts --------------------------------------------------------------

  createInvite = (): Promise<{ link: string; inviteId: string }> => this.run(createInvite);
  acceptInvite = (link: string): Promise<ContactView> => this.run((ctx) => acceptInvite(ctx, link));
  contacts = (): Promise<ContactView[]> => this.run(contactOps.contacts);
  findContact = (nameOrId: string): Promise<ContactRecord> => this.run((ctx) => findContact(ctx, nameOrId));
  safetyNumber = (nameOrId: string) => this.run((ctx) => contactOps.safetyNumber(ctx, nameOrId));
  /** Blocks (or with `false` unblocks) a contact: what they write is dropped (client/contacts.ts). */
  blockContact = (nameOrId: string, blocked = true): Promise<ContactView> =>
    this.run((ctx) => contactOps.blockContact(ctx, nameOrId, blocked));
  renameContact = (nameOrId: string, newName: string): Promise<ContactView> =>
    this.run((ctx) => contactOps.renameContact(ctx, nameOrId, newName));
  /** Forgets a contact and their 1:1 conversations on this device (client/contact-delete.ts). */
  deleteContact = (nameOrId: string): Promise<DeletedContact> =>
    this.run((ctx) => deleteContact(ctx, nameOrId));
  verifyContact = (nameOrId: string): Promise<ContactView> =>
    this.run((ctx) => contactOps.verifyContact(ctx, nameOrId));
  /** Accepts a verified contact's changed identity key: sending to them resumes (reset/accept-key.ts). */
  acceptKeyChange = (nameOrId: string): Promise<ContactView> =>
    this.run((ctx) => acceptKeyChange(ctx, nameOrId));
  /** New identity and device keys everywhere, after a compromise (client/reset/reset.ts). */
  resetKeys = (): Promise<ResetResult> => this.run(resetKeys);

  // ---- our devices (client/devices/, docs/devices.md) -------------------------------------------

  /** A one-time link for a new device of ours; `awaitLinkRequest` waits for it to say hello. */
  createDeviceLink = (): Promise<LinkOffer> => this.run(createDeviceLink);
  /** The new device's hello: its name and the short code both devices show. */
  awaitLinkRequest = (offer: LinkOffer, timeoutMs?: number): Promise<LinkRequest> =>
    this.run((ctx) => awaitLinkRequest(ctx, offer, timeoutMs));
  /** Once the person confirmed `code`: the new device gets the profile and joins every conversation. */
  /** With `{ withHistory: true }` the history of every conversation it joins goes with it. */
  completeLink = (
    request: LinkRequest,
    code: string,
    timeoutMs?: number,
    options?: CompleteLinkOptions,
  ): Promise<LinkResult> => this.run((ctx) => completeLink(ctx, request, code, timeoutMs, options));
  cancelDeviceLink = (offer: LinkOffer): Promise<void> => this.run((ctx) => cancelDeviceLink(ctx, offer));
  /** On a device without a profile: claims `link`, says hello, and returns the code to show. */
  beginDeviceLink = (link: string, deviceName: string): Promise<PendingDeviceLink> =>
    this.run((ctx) => beginDeviceLink(ctx, link, deviceName));
  /** Waits for the existing device (the person confirms the code there), then joins everything. */
  finishDeviceLink = (pending: PendingDeviceLink, timeoutMs?: number): Promise<DeviceLinkResult> =>
    this.run((ctx) => finishDeviceLink(ctx, pending, timeoutMs));
  devices = (): Promise<DeviceView[]> => this.run(listDevices);
  /** Removes a device of ours from every conversation and group (client/devices/revoke.ts). */
  revokeDevice = (nameOrKey: string): Promise<RevokeResult> =>
    this.run((ctx) => revokeDevice(ctx, nameOrKey));

  // ---- conversations -------------------------------------------------------------------------

  /** Every conversation, direct and group, for a conversation list. */
  conversations = (): Promise<ConversationView[]> => this.run((ctx) => conversationOps.conversations(ctx));
  /** Mute or unmute, archive or bring back a conversation (this device only). */
  setConversationSettings = (
    nameOrId: string,
    change: conversationOps.ConversationSettings,
  ): Promise<ConversationView> =>
    this.run((ctx) => conversationOps.setConversationSettings(ctx, nameOrId, change));

  /** A contact's conversation or a group, by name or id. */
  findConversation = (nameOrId: string): Promise<ConversationRecord> =>
    this.run((ctx) => findConversation(ctx, nameOrId));

  /** Sets (null: turns off) a conversation's disappearing-messages timer, for everyone in it. */
  setExpiry = (nameOrId: string, seconds: ExpireSeconds): Promise<ClientEvent> =>
    this.run((ctx) => setExpiry(ctx, nameOrId, seconds));

  /** The newest `limit` messages of a conversation, oldest first (what a timer made due is gone first). */
  messages = (nameOrId: string, limit = 1000): Promise<MessageView[]> =>
    this.run(async (ctx) => {
      await requireProfile(ctx);
      await sweepExpired(ctx);
      const conversation = await findConversation(ctx, nameOrId);
      const records = await ctx.repo.messages(conversation.id, limit);
      const people = await peopleOf(ctx, conversation.id);
      return Promise.all(records.map((r) => messageView(ctx, r, conversation, people)));
    });

  /** Messages of this device's history containing `query`, newest first (client/search.ts). */
  search = (query: string, options: SearchOptions = {}): Promise<MessageView[]> =>
    this.run((ctx) => searchMessages(ctx, query, options));

  /**
   * Seals and stores the message, then hands it to the relay. `wait: false`: resolves once it is
   * stored ("sending": a crash now delays it, never loses it) and delivers it in the background,
   * in one batch with what else queued up meanwhile; `listen` reports it "sent" (outbox.ts).
   */
  send = (nameOrId: string, text: string, options: { wait?: boolean } = {}): Promise<MessageView> =>
    this.run((ctx) => send(ctx, nameOrId, text, options));
  /** Resolves once no background delivery (`send` with `wait: false`) is running. */
  settleOutbox = (): Promise<void> => this.run(async (ctx) => settleOutbox(ctx));
  /**
   * Before the store is closed: hands back the generations reserved for sending and not used
   * (sending-ahead.ts), so that the next process using this profile need not skip past them.
   */
  release = (): Promise<void> =>
    this.run(async (ctx) => {
      await settleOutbox(ctx);
      if (holdsSendingAhead(ctx)) await ctx.lock.run(() => releaseSendingAhead(ctx));
    });

  /**
   * Marks a conversation read up to its newest message, and sends a read receipt for what was new
   * when this conversation allows it (client/receipts.ts). Returns the ids it said were read.
   */
  markRead = (nameOrId: string): Promise<{ ids: string[]; sent: boolean }> =>
    this.run((ctx) => receipts.markRead(ctx, nameOrId));
  /** Tells the conversation we are (`false`: no longer) typing, when it allows it; else nothing. */
  sendTyping = (nameOrId: string, typing = true): Promise<boolean> =>
    this.run((ctx) => receipts.sendTyping(ctx, nameOrId, typing));

  // ---- replies, reactions, edits, deletions (messages/actions.ts) ----------------------------
  // A message is named by its content id, or an unambiguous prefix of it (at least 4 characters).

  reply = (nameOrId: string, messageId: string, text: string): Promise<MessageView> =>
    this.run((ctx) => actions.reply(ctx, nameOrId, messageId, text));
  /** One emoji on a message, replacing ours; `null` takes ours away. */
  react = (nameOrId: string, messageId: string, emoji: string | null): Promise<MessageView> =>
    this.run((ctx) => actions.react(ctx, nameOrId, messageId, emoji));
  editMessage = (nameOrId: string, messageId: string, text: string): Promise<MessageView> =>
    this.run((ctx) => actions.editMessage(ctx, nameOrId, messageId, text));
  deleteMessage = (nameOrId: string, messageId: string): Promise<MessageView> =>
    this.run((ctx) => actions.deleteMessage(ctx, nameOrId, messageId));

  // ---- files ---------------------------------------------------------------------------------

  /** Encrypts, uploads (resuming an interrupted upload of the same source) and announces a file. */
  sendFile = (nameOrId: string, input: SendFileInput): Promise<SentFile> =>
    this.run((ctx) => sendFile(ctx, nameOrId, input));

  /** The file messages of a conversation, oldest first. */
  files = (nameOrId: string): Promise<MessageView[]> =>
    this.run(async (ctx) => {
      await requireProfile(ctx);
      const conversation = await findConversation(ctx, nameOrId);
      const records = await files(ctx, conversation.id);
      const people = await peopleOf(ctx, conversation.id);
      return Promise.all(records.map((r) => messageView(ctx, r, conversation, people)));
    });

  /** Downloads (resuming), verifies and decrypts a file into `target`; returns what was found. */
  getFile = (
    fileId: string,
    target: DownloadTarget,
    options?: GetFileOptions,
  ): Promise<FileView & { resumedFrom: number }> => this.run((ctx) => getFile(ctx, fileId, target, options));

  /**
   * Deletes one of our files from the relay before it expires (its recipients are then told
   * `file_deleted` when they try to fetch it); a no-op for a file deleted already.
   */
  deleteFile = (fileId: string): Promise<FileView> => this.run((ctx) => deleteFile(ctx, fileId));

  // ---- groups --------------------------------------------------------------------------------

  /** `pq`: a post-quantum group (MLS cipher suite X-Wing instead of suite 1). */
  createGroup = (name: string, options: admin.CreateGroupOptions = {}): Promise<ConversationView> =>
    this.run((ctx) => admin.createGroup(ctx, name, options));
  addToGroup = (group: string, contacts: string[], options: { unchecked?: boolean } = {}) =>
    this.run((ctx) => admin.addToGroup(ctx, group, contacts, options));
  removeFromGroup = (group: string, contacts: string[]) =>
    this.run((ctx) => admin.removeFromGroup(ctx, group, contacts));
  leaveGroup = (group: string): Promise<void> => this.run((ctx) => admin.leaveGroup(ctx, group));
  setGroupAdmin = (group: string, member: string, isAdmin: boolean) =>
    this.run((ctx) => admin.setGroupAdmin(ctx, group, member, isAdmin));
  renameGroup = (group: string, name: string): Promise<ConversationView> =>
    this.run((ctx) => admin.renameGroup(ctx, group, name));
  /** Commits fresh keys for our leaf in the group (post-compromise security). */
  rekeyGroup = (group: string): Promise<void> => this.run((ctx) => admin.rekeyGroup(ctx, group));

  // ---- group invite links (client/group-links/) ----------------------------------------------

  /** A link that lets whoever opens it ask to join (admins only); replaces the group's earlier link. */
  createGroupLink = (group: string, options?: GroupLinkOptions): Promise<GroupLinkView> =>
    this.run((ctx) => createGroupLink(ctx, group, options));
  groupLink = (group: string): Promise<GroupLinkView | null> =>
    this.run((ctx) => currentGroupLink(ctx, group));
  revokeGroupLink = (group: string): Promise<boolean> => this.run((ctx) => revokeGroupLink(ctx, group));
  /** Asks to join the group a link is for; an admin's client adds us (we hear of it on sync). */
  joinGroupByLink = (link: string): Promise<JoinRequestedView> =>
    this.run((ctx) => joinGroupByLink(ctx, link));
  joinRequests = (group: string): Promise<JoinRequestView[]> =>
    this.run((ctx) => listJoinRequests(ctx, group));
  approveJoinRequest = (group: string, nameOrId: string) =>
    this.run((ctx) => approveJoinRequest(ctx, group, nameOrId));
  declineJoinRequest = (group: string, nameOrId: string): Promise<void> =>
    this.run((ctx) => declineJoinRequest(ctx, group, nameOrId));
  groupMembers = (group: string): Promise<GroupMemberView[]> => this.run((ctx) => groupMembers(ctx, group));

  // ---- posts (client/posts/, docs/04-posts.md) --------------------------------------------------

  /** Shares a post with an audience ("all" by default): one message in its feed group. */
  post = (input: PostInput): Promise<PostView> => this.run((ctx) => publishPost(ctx, input));
  /** Friends' posts and ours, newest first, with comments and likes; expired ones dropped first. */
  feed = (options?: FeedOptions): Promise<PostView[]> => this.run((ctx) => feed(ctx, options));
  comment = (postId: string, text: string): Promise<PostView> =>
    this.run((ctx) => commentOnPost(ctx, postId, text));
  like = (postId: string, on = true): Promise<PostView> => this.run((ctx) => likePost(ctx, postId, on));
  /** Deletes our post from every device of its audience, and its photos from the relay. */
  deletePost = (postId: string): Promise<{ id: string }> => this.run((ctx) => deletePost(ctx, postId));
  createAudience = (name: string, contacts: string[]) =>
    this.run((ctx) => audienceOps.createAudience(ctx, name, contacts));
  addToAudience = (name: string, contacts: string[]) =>
    this.run((ctx) => audienceOps.addToAudience(ctx, name, contacts));
  removeFromAudience = (name: string, contacts: string[]) =>
    this.run((ctx) => audienceOps.removeFromAudience(ctx, name, contacts));
  showAudience = (name: string) => this.run((ctx) => audienceOps.showAudience(ctx, name));
  audiences = () => this.run(audienceOps.listAudiences);

  // ---- receiving -----------------------------------------------------------------------------

  /**
   * Fetches everything waiting on every queue of this device, processes it in order, acknowledges;
   * then drops expired posts (posts/feed.ts) and what a disappearing-messages timer made due.
   */
  sync = (): Promise<ClientEvent[]> =>
    this.run(async (ctx) => {
      const events = await sync(ctx);
      await purgeExpired(ctx);
      return [...(await withoutFeedGroupEvents(ctx, events)), ...(await sweepExpired(ctx))];
    });

  /** Handles one delivered envelope; idempotent per (queue, msgId). Throws only on local failures. */
  receive = (queue: QueueCredentials, msgId: string, body: Uint8Array): Promise<ClientEvent[]> =>
    this.run((ctx) => receive(ctx, queue, msgId, body));

  /** Reports events as they happen until `signal` aborts (listen.ts). */
  listen = (onEvent: (event: ClientEvent) => void, signal: AbortSignal): Promise<void> =>
    this.run(async (ctx) => {
      const quiet = quietFeedGroups(ctx, onEvent);
      const stop = sweepWhileListening(ctx, quiet, signal);
      try {
        await listen(ctx, quiet, signal);
      } finally {
        stop();
      }
    });

  // ---- seams for adversarial tests (a modified client calls these directly) ---------------------

  protected device = (p: ProfileRecord) => deviceOf(p);
  protected relay = (url: string) => this.ctx.relay(url);
  protected keyPackageId = (publicMessage: Uint8Array) => keyPackageId(this.ctx, publicMessage);
  /** Sends any content in any conversation, unchecked (a forged edit, a reaction to nothing). */
  protected sendBodyUnchecked = (nameOrId: string, body: Parameters<typeof sendBody>[2], id?: string) =>
    this.run((ctx) => sendBody(ctx, nameOrId, body, { text: "" }, id));
  protected sendContentLocked = (conversationId: string, body: Parameters<typeof sendContentLocked>[2]) =>
    sendContentLocked(this.ctx, conversationId, body);
}
