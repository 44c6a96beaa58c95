/**
 * The client engine: one device's view of its contacts and conversations. It turns user intents
 * (invite, accept, send) into MLS operations and relay calls, and relay deliveries into history.
 *
 * Rules it keeps everywhere:
 * - every operation reloads the state it needs from the store under the profile lock, so a CLI
 *   `send` and a running `listen` in another process never fork the MLS ratchets;
 * - state is stored before anything derived from it leaves the device, and a delivery is
 *   acknowledged only after its result is stored (at-least-once, deduplicated by relay msgId);
 * - nothing forged, tampered or malformed reaches history: it is reported as a rejection instead.
 */
import type { CryptoProvider } from "../crypto/provider.js";
import type { DeviceIdentity } from "../identity/device.js";
import { createIdentity } from "../identity/identity-key.js";
import { safetyNumber } from "../identity/safety-number.js";
import { type GroupState, type MlsEngine, MlsProcessingError } from "../mls/engine.js";
import { PaddingError, pad, unpad } from "../protocol/padding.js";
import { RelayError } from "../relay-client/errors.js";
import { type FetchLike, normalizeRelayUrl, RelayHttpClient } from "../relay-client/relay-http.js";
import { RelaySocket, type WebSocketFactory } from "../relay-client/relay-socket.js";
import type { QueueCredentials } from "../relay-client/signing.js";
import type { KeyValueStore } from "../storage/key-value-store.js";
import { type Body, ContentError, DisplayName, decodeContent, encodeContent } from "./content.js";
import { formatInviteLink, InviteError, openInvite, parseInviteLink, sealInvite } from "./invite-link.js";
import { InProcessLock, type ProfileLock } from "./profile-lock.js";
import { type Batch, b64, ProfileRepository, unb64 } from "./profile-repository.js";
import type { ContactRecord, ConversationRecord, MessageRecord, ProfileRecord } from "./records.js";

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
  conversation: string; // the contact's (or group's) display name
  conversationId: string;
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

export type ClientEvent =
  | { type: "message"; message: MessageView }
  | { type: "contact"; contact: ContactView; change: "added" | "renamed" }
  | { type: "delivered"; conversationId: string; ids: string[] }
  | { type: "rejected"; reason: string }
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

export class ParleyClient {
  readonly repo: ProfileRepository;
  private readonly crypto: CryptoProvider;
  private readonly engine: MlsEngine;
  private readonly lock: ProfileLock;
  private readonly now: () => number;
  private readonly relays = new Map<string, RelayHttpClient>();

  constructor(private readonly env: ClientEnvironment) {
    this.repo = new ProfileRepository(env.store);
    this.crypto = env.crypto;
    this.engine = env.engine;
    this.lock = env.lock ?? new InProcessLock();
    this.now = env.now ?? Date.now;
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
    if (!p)
      throw new ParleyError(
        "no_profile",
        "no profile here yet: run `parley init --name <name> --server <url>`",
      );
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
    let sealed: Uint8Array;
    try {
      sealed = await inviterRelay.claimInvite(parsed.inviteId);
    } catch (e) {
      if (e instanceof RelayError && e.code === "invite_gone") {
        throw new InviteError("this invite was already used or has expired: ask for a new one");
      }
      throw e;
    }
    const payload = await openInvite(this.crypto, parsed.key, sealed);
    const inviter = await this.engine.inspectKeyPackage(unb64(payload.keyPackage)).catch((e: Error) => {
      throw new InviteError(`invite rejected: ${e.message}`);
    });
    if (b64(inviter.identityKey) === profile.identityPublicKey) {
      throw new InviteError("this is your own invite: send it to the person you want to talk to");
    }
    const ownQueue = await this.relay(profile.relay).createQueue();
    const device = this.device(profile);

    return this.lock.run(async () => {
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
      await this.repo.commit(batch);
      this.repo.groupStateSaved(conversation.groupId, state.epoch);

      // Welcome first, then the intro: the relay keeps a queue's order.
      await inviterRelay.send(payload.sendId, pad(added.welcome));
      await inviterRelay.send(payload.sendId, pad(intro.message));
      return this.contactView(contact, conversation);
    });
  }

  // ---- contacts ------------------------------------------------------------------------------

  async contacts(): Promise<ContactView[]> {
    await this.profile();
    const contacts = await this.repo.contacts();
    const views: ContactView[] = [];
    for (const c of contacts) {
      const conv = await this.repo.conversation(c.conversationId);
      if (conv) views.push(this.contactView(c, conv));
    }
    return views.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Finds a contact by name (case-insensitive) or id. */
  async findContact(nameOrId: string): Promise<ContactRecord> {
    const all = await this.repo.contacts();
    const wanted = nameOrId.trim().toLowerCase();
    const match =
      all.find((c) => c.id === nameOrId) ??
      all.find((c) => c.name.toLowerCase() === wanted) ??
      singleOrUndefined(all.filter((c) => c.name.toLowerCase().startsWith(wanted)));
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

  // ---- sending -------------------------------------------------------------------------------

  async send(nameOrId: string, text: string): Promise<MessageView> {
    if (text.length === 0) throw new ParleyError("empty", "nothing to send");
    const contact = await this.findContact(nameOrId);
    const id = b64(this.crypto.randomBytes(16));
    const sentAt = this.now();
    const { record, conversation, envelope } = await this.lock.run(async () => {
      const conversation = await this.requireConversation(contact.conversationId);
      if (!conversation.sendTo) {
        throw new ParleyError("not_ready", `${contact.name} has not finished connecting yet: sync first`);
      }
      const state = await this.loadState(conversation.groupId);
      const sealed = await this.encryptContent(state, { type: "text", text }, id, sentAt);
      const record: MessageRecord = {
        id,
        conversationId: conversation.id,
        fromMe: true,
        senderContactId: null,
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
      await this.repo.commit(batch);
      this.repo.groupStateSaved(conversation.groupId, sealed.state.epoch);
      return { record, conversation, envelope: pad(sealed.message) };
    });
    try {
      await this.relay(conversation.sendTo!.relay).send(conversation.sendTo!.sendId, envelope);
      record.status = "sent";
    } catch (e) {
      record.status = "failed";
      await this.updateMessage(record);
      throw e;
    }
    await this.updateMessage(record);
    return this.messageView(record, contact);
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
    const contact = await this.findContact(nameOrId);
    const records = await this.repo.messages(contact.conversationId, limit);
    return records.map((r) => this.messageView(r, contact));
  }

  // ---- receiving -----------------------------------------------------------------------------

  /** Fetches everything waiting on every queue of this device, processes it in order, acknowledges. */
  async sync(): Promise<ClientEvent[]> {
    await this.profile();
    const events: ClientEvent[] = [];
    for (const queue of await this.receiveQueues()) {
      const relay = this.relay(queue.relay);
      for (;;) {
        const batch = await relay.fetchMessages(queue);
        if (batch.length === 0) break;
        for (const m of batch) {
          events.push(...(await this.receive(queue, m.msgId, unb64(m.body))));
          await relay.ack(queue, m.msgId).catch(ignoreAlreadyAcknowledged);
        }
        if (batch.length < 100) break;
      }
    }
    await this.sendReceipts(events);
    return events;
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
            onMessage: async (q, msgId, body) => {
              const events = await this.receive(q, msgId, body);
              for (const e of events) onEvent(e);
              await this.sendReceipts(events).catch(() => {});
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
    for (const c of await this.repo.conversations()) queues.push(c.receive);
    return queues;
  }

  /** Handles one delivered envelope; idempotent per (queue, msgId). Throws only on local failures. */
  async receive(queue: QueueCredentials, msgId: string, body: Uint8Array): Promise<ClientEvent[]> {
    return this.lock.run(async () => {
      if (await this.repo.seen(queue.queueId, msgId)) return [];
      const work = this.repo.batch();
      let events: ClientEvent[];
      let saved: { groupId: string; epoch: bigint } | undefined;
      try {
        const payload = unpad(body);
        const route = await this.repo.route(queue.queueId);
        if (!route) throw new ParleyError("unknown_queue", "message on a queue this device does not know");
        if (route.kind === "invite") {
          ({ events, saved } = await this.acceptWelcome(work, route.queueId, payload));
        } else {
          ({ events, saved } = await this.processInConversation(work, route.conversationId, payload));
        }
      } catch (e) {
        if (!isRejection(e)) throw e; // a local failure: leave unacknowledged, retry later
        events = [{ type: "rejected", reason: (e as Error).message }];
        // The message is dropped and the MLS state stays as it was: only the "seen" mark is stored.
        work.writes.length = 0;
        saved = undefined;
      }
      await this.repo.commit(this.repo.markSeen(work, queue.queueId, msgId));
      if (saved) this.repo.groupStateSaved(saved.groupId, saved.epoch);
      return events;
    });
  }

  private async acceptWelcome(batch: Batch, queueId: string, welcome: Uint8Array) {
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
    return { events: [] as ClientEvent[], saved: { groupId, epoch: state.epoch } };
  }

  private async processInConversation(batch: Batch, conversationId: string, message: Uint8Array) {
    const conversation = await this.requireConversation(conversationId);
    const self = (await this.profile()).identityPublicKey;
    const contact = await this.repo.contact(conversation.contactId);
    if (!contact) throw new ParleyError("corrupt", "conversation without a contact");
    const result = await this.engine.process(await this.loadState(conversation.groupId), message);
    const events: ClientEvent[] = [];
    if (result.kind === "application") {
      if (b64(result.sender.identityKey) !== contact.identityKey) {
        throw new MlsProcessingError("message from an identity that is not this contact: dropped");
      }
      const content = decodeContent(result.plaintext);
      events.push(
        ...(await this.applyContent(batch, conversation, contact, content.id, content.sentAt, content.body)),
      );
    } else {
      // A 1:1 conversation holds exactly the two identities; anyone else is a warning sign.
      const known = new Set([contact.identityKey, self]);
      if (this.engine.members(result.state).some((m) => !known.has(b64(m.identityKey)))) {
        const changed = { ...contact, keyChanged: true, verified: false };
        this.repo.putContact(batch, changed);
        events.push({ type: "contact", contact: this.contactView(changed, conversation), change: "renamed" });
      }
    }
    this.saveState(batch, conversation.groupId, result.state);
    return { events, saved: { groupId: conversation.groupId, epoch: result.state.epoch } };
  }

  private async applyContent(
    batch: Batch,
    conversation: ConversationRecord,
    contact: ContactRecord,
    id: string,
    sentAt: number,
    body: Body,
  ): Promise<ClientEvent[]> {
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
        return [{ type: "contact", contact: this.contactView(renamed, updated), change: "added" }];
      }
      case "text": {
        if (await this.repo.message(conversation.id, id)) return []; // the same content twice
        const record: MessageRecord = {
          id,
          conversationId: conversation.id,
          fromMe: false,
          senderContactId: contact.id,
          text: body.text,
          sentAt,
          receivedAt: this.now(),
          status: "received",
          key: this.orderKey(id),
        };
        this.repo.putMessage(batch, record);
        return [{ type: "message", message: this.messageView(record, contact) }];
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
          ? [{ type: "delivered", conversationId: conversation.id, ids: delivered }]
          : [];
      }
    }
  }

  /** Tells senders their messages arrived: one receipt per conversation per batch of messages. */
  private async sendReceipts(events: ClientEvent[]): Promise<void> {
    const byConversation = new Map<string, string[]>();
    for (const e of events) {
      if (e.type !== "message" || e.message.fromMe) continue;
      const ids = byConversation.get(e.message.conversationId) ?? [];
      ids.push(e.message.id);
      byConversation.set(e.message.conversationId, ids);
    }
    for (const [conversationId, ids] of byConversation) {
      for (let i = 0; i < ids.length; i += 256) {
        await this.sendContent(conversationId, { type: "receipt", ids: ids.slice(i, i + 256) });
      }
    }
  }

  private async sendContent(conversationId: string, body: Body): Promise<void> {
    const sent = await this.lock.run(async () => {
      const conversation = await this.requireConversation(conversationId);
      if (!conversation.sendTo) return undefined;
      const sealed = await this.encryptContent(await this.loadState(conversation.groupId), body);
      const batch = this.repo.batch();
      this.saveState(batch, conversation.groupId, sealed.state);
      await this.repo.commit(batch);
      this.repo.groupStateSaved(conversation.groupId, sealed.state.epoch);
      return { to: conversation.sendTo, envelope: pad(sealed.message) };
    });
    if (sent) await this.relay(sent.to.relay).send(sent.to.sendId, sent.envelope);
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

  private async loadState(groupId: string): Promise<GroupState> {
    const serialized = await this.repo.groupState(groupId);
    if (!serialized) throw new ParleyError("corrupt", "the group state of this conversation is missing");
    return this.engine.deserialize(serialized);
  }

  private saveState(batch: Batch, groupId: string, state: GroupState): void {
    this.repo.putGroupState(batch, groupId, this.engine.serialize(state));
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

  private orderKey(id: string): string {
    return `${this.now().toString().padStart(15, "0")}-${id}`;
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

  private messageView(r: MessageRecord, contact: ContactRecord): MessageView {
    return {
      conversation: contact.name,
      conversationId: r.conversationId,
      id: r.id,
      from: r.fromMe ? "me" : contact.name,
      fromMe: r.fromMe,
      text: r.text,
      sentAt: new Date(r.sentAt).toISOString(),
      receivedAt: r.receivedAt === null ? null : new Date(r.receivedAt).toISOString(),
      status: r.status,
    };
  }
}

function parseName(name: string): string {
  const parsed = DisplayName.safeParse(name);
  if (!parsed.success) throw new ParleyError("bad_name", "a display name has 1 to 64 characters");
  return parsed.data;
}

/** An ack that raced another (listen and sync at once) finds the message gone: that is success. */
function ignoreAlreadyAcknowledged(e: unknown): void {
  if (!(e instanceof RelayError && e.code === "unknown_message")) throw e;
}

function singleOrUndefined<T>(items: T[]): T | undefined {
  return items.length === 1 ? items[0] : undefined;
}

/** Errors that mean "this message is bad", as opposed to "this device could not store it". */
function isRejection(e: unknown): boolean {
  return (
    e instanceof MlsProcessingError ||
    e instanceof PaddingError ||
    e instanceof ContentError ||
    e instanceof InviteError ||
    (e instanceof ParleyError && e.code === "unknown_queue")
  );
}
