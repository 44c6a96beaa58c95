/**
 * Typed access to a device's KeyValueStore: records in, records out. The key layout is keys.ts;
 * no caller above sees a store key.
 */
import { fromBase64Url, toBase64Url } from "../encoding/base64url.js";
import { fromUtf8, utf8 } from "../encoding/bytes.js";
import type { SerializedGroupState } from "../mls/engine.js";
import type { KeyValueStore } from "../storage/key-value-store.js";
import { Batch, unjson } from "./batch.js";
import { Keys as K } from "./keys.js";
import { LiveGroupStates } from "./live-states.js";
import type {
  AfterMigrationRecord,
  ContactKeyPackage,
  ContactRecord,
  ConversationRecord,
  DevicesRecord,
  HeldMessage,
  KeyResetsRecord,
  MessageRecord,
  OutboxEntry,
  OwnKeyPackage,
  PendingChangeRecord,
  PendingInviteRecord,
  ProfileRecord,
  QueueRoute,
  RatchetMark,
  SendingAheadRecord,
} from "./records.js";

/** The most matches a search across every conversation considers before picking the newest. */
export const SEARCH_MATCHES_BOUND = 100_000;

export class ProfileRepository {
  /** Epoch of the state last saved per group, so a message within an epoch rewrites only the ratchet part. */
  private readonly savedEpochs = new Map<string, bigint>();
  /** How many tree pieces the store holds per group, as this process last read or wrote them. */
  private readonly treePieceCounts = new Map<string, number>();
  /** Group states saved by this repository's batches, kept decoded (live-states.ts). */
  readonly liveStates = new LiveGroupStates();

  constructor(readonly kv: KeyValueStore) {}

  batch(): Batch {
    return new Batch();
  }
  async commit(batch: Batch): Promise<void> {
    await this.kv.write(batch.writes);
    for (const fn of batch.committed) fn();
  }

  private async getJson<T>(key: string): Promise<T | undefined> {
    const bytes = await this.kv.get(key);
    return bytes === undefined ? undefined : unjson<T>(bytes);
  }
  private async listJson<T>(prefix: string, options?: { limit?: number; reverse?: boolean }): Promise<T[]> {
    return (await this.kv.list(prefix, options)).map(([, v]) => unjson<T>(v));
  }

  profile = () => this.getJson<ProfileRecord>(K.profile);
  putProfile = (b: Batch, p: ProfileRecord) => b.put(K.profile, p);

  keyResets = async () => (await this.getJson<KeyResetsRecord>(K.keyResets)) ?? {};
  putKeyResets = (b: Batch, r: KeyResetsRecord) => b.put(K.keyResets, r);
  devices = async () => (await this.getJson<DevicesRecord>(K.devices)) ?? {};
  putDevices = (b: Batch, r: DevicesRecord) => b.put(K.devices, r);
  /** Every own KeyPackage reference (their private halves), e.g. to drop them all at a key reset. */
  ownKeyPackageRefs = async () =>
    (await this.kv.list(K.ownKeyPackages)).map(([k]) => k.slice(K.ownKeyPackages.length));

  contact = (id: string) => this.getJson<ContactRecord>(K.contact(id));
  contacts = () => this.listJson<ContactRecord>(K.contacts);
  putContact = (b: Batch, c: ContactRecord) => newContactsRevision(b).put(K.contact(c.id), c);
  /**
   * Changes whenever a contact or a KeyPackage a contact gave us is written or a contact deleted
   * ("" before the first such write): what was worked out from every contact holds while it stays.
   */
  contactsRevision = async (): Promise<string> => {
    const bytes = await this.kv.get(K.contactsRevision);
    return bytes === undefined ? "" : fromUtf8(bytes);
  };

  conversation = (id: string) => this.getJson<ConversationRecord>(K.conversation(id));
  conversations = () => this.listJson<ConversationRecord>(K.conversations);
  putConversation = (b: Batch, c: ConversationRecord) => b.put(K.conversation(c.id), c);

  invite = (queueId: string) => this.getJson<PendingInviteRecord>(K.invite(queueId));
  invites = () => this.listJson<PendingInviteRecord>(K.invites);
  putInvite = (b: Batch, i: PendingInviteRecord) => b.put(K.invite(i.queue.queueId), i);
  deleteInvite = (b: Batch, queueId: string) => b.delete(K.invite(queueId));

  route = (queueId: string) => this.getJson<QueueRoute>(K.route(queueId));
  putRoute = (b: Batch, queueId: string, r: QueueRoute) => b.put(K.route(queueId), r);

  /** KeyPackages a contact gave us: [KeyPackage reference, record]. */
  async theirKeyPackages(contactId: string): Promise<[string, ContactKeyPackage][]> {
    const prefix = K.theirKeyPackages(contactId);
    return (await this.kv.list(prefix)).map(([k, v]) => [
      k.slice(prefix.length),
      unjson<ContactKeyPackage>(v),
    ]);
  }
  putTheirKeyPackage = (b: Batch, ref: string, k: ContactKeyPackage) =>
    newContactsRevision(b).put(K.theirKeyPackage(k.contactId, ref), k);
  deleteTheirKeyPackage = (b: Batch, contactId: string, ref: string) =>
    b.delete(K.theirKeyPackage(contactId, ref));

  ownKeyPackage = (ref: string) => this.getJson<OwnKeyPackage>(K.ownKeyPackage(ref));
  putOwnKeyPackage = (b: Batch, ref: string, k: OwnKeyPackage) => b.put(K.ownKeyPackage(ref), k);
  deleteOwnKeyPackage = (b: Batch, ref: string) => b.delete(K.ownKeyPackage(ref));

  /** The names members of a group chose for themselves, by identity key (inside the value). */
  memberNames = async (conversationId: string): Promise<Record<string, string>> =>
    (await this.getJson<Record<string, string>>(K.memberNames(conversationId))) ?? {};
  memberName = async (conversationId: string, identityKey: string): Promise<string | undefined> =>
    (await this.memberNames(conversationId))[identityKey];
  async putMemberName(b: Batch, conversationId: string, identityKey: string, name: string): Promise<Batch> {
    const names = await this.memberNames(conversationId);
    return b.put(K.memberNames(conversationId), { ...names, [identityKey]: name });
  }

  cursor = (queueId: string) => this.getJson<string>(K.cursor(queueId));
  putCursor = (b: Batch, queueId: string, msgId: string) => b.put(K.cursor(queueId), msgId);
  deleteCursor = (b: Batch, queueId: string) => b.delete(K.cursor(queueId));

  ratchetMark = (conversationId: string, leafIndex: number) =>
    this.getJson<RatchetMark>(K.ratchetMark(conversationId, leafIndex));
  putRatchetMark = (b: Batch, conversationId: string, leafIndex: number, mark: RatchetMark) =>
    b.put(K.ratchetMark(conversationId, leafIndex), mark);

  /** Held messages of a conversation, oldest first (at most `limit`): [order, record]. */
  async held(conversationId: string, limit?: number): Promise<[string, HeldMessage][]> {
    const prefix = K.helds(conversationId);
    const rows = await this.kv.list(prefix, limit === undefined ? {} : { limit });
    return rows.map(([key, value]) => [key.slice(prefix.length), unjson<HeldMessage>(value)]);
  }
  putHeld = (b: Batch, conversationId: string, order: string, m: HeldMessage) =>
    b.put(K.held(conversationId, order), m);
  deleteHeld = (b: Batch, conversationId: string, order: string) => b.delete(K.held(conversationId, order));

  async seen(queueId: string, msgId: string): Promise<boolean> {
    return (await this.kv.get(K.seen(queueId, msgId))) !== undefined;
  }
  markSeen = (b: Batch, queueId: string, msgId: string) =>
    b.putBytes(K.seen(queueId, msgId), new Uint8Array([1]));

  /** Every outbox entry, oldest first: [order, entry]. */
  async outbox(): Promise<[string, OutboxEntry][]> {
    const rows = await this.kv.list(K.outboxAll);
    return rows.map(([key, value]) => [key.slice(K.outboxAll.length), unjson<OutboxEntry>(value)]);
  }
  outboxEntry = (order: string) => this.getJson<OutboxEntry>(K.outbox(order));
  putOutboxEntry = (b: Batch, order: string, e: OutboxEntry) => b.put(K.outbox(order), e);
  deleteOutboxEntry = (b: Batch, order: string) => b.delete(K.outbox(order));

  async payloadSeen(conversationId: string, digest: string): Promise<boolean> {
    return (await this.kv.get(K.payloadSeen(conversationId, digest))) !== undefined;
  }
  markPayloadSeen = (b: Batch, conversationId: string, digest: string) =>
    b.putBytes(K.payloadSeen(conversationId, digest), new Uint8Array([1]));
  /** A file upload in progress (client/files/send-file.ts keeps its shape). */
  upload = <T>(id: string) => this.getJson<T>(K.upload(id));
  putUpload = (b: Batch, id: string, state: unknown) => b.put(K.upload(id), state);
  deleteUpload = (b: Batch, id: string) => b.delete(K.upload(id));

  async message(conversationId: string, id: string): Promise<MessageRecord | undefined> {
    const key = await this.getJson<string>(K.messageIndex(conversationId, id));
    return key === undefined ? undefined : this.getJson<MessageRecord>(K.message(conversationId, key));
  }
  putMessage(b: Batch, m: MessageRecord): Batch {
    return b
      .putSearchable(K.message(m.conversationId, m.key), m, searchableText(m))
      .put(K.messageIndex(m.conversationId, m.id), m.key);
  }
  deleteMessage(b: Batch, m: MessageRecord): Batch {
    return b.delete(K.message(m.conversationId, m.key)).delete(K.messageIndex(m.conversationId, m.id));
  }
  /** Changes waiting for a message (all of the conversation's without `target`), oldest key first. */
  pendingChanges = (conversationId: string, target?: string) =>
    this.listJson<PendingChangeRecord>(K.pendingChanges(conversationId, target));
  putPendingChange = (b: Batch, conversationId: string, r: PendingChangeRecord) =>
    b.put(K.pendingChange(conversationId, r.target, r.id), r);
  deletePendingChange = (b: Batch, conversationId: string, r: PendingChangeRecord) =>
    b.delete(K.pendingChange(conversationId, r.target, r.id));

  /**
   * Messages whose words contain `query` (storage/text-search.ts), newest first, at most `limit`:
   * of one conversation, or of all. Undefined when the store cannot search.
   */
  async searchMessages(
    query: string,
    conversationId: string | undefined,
    limit: number,
  ): Promise<MessageRecord[] | undefined> {
    if (!this.kv.search) return undefined;
    if (conversationId !== undefined)
      return this.loadMessages(await this.kv.search(K.messages(conversationId), query, limit));
    // Across conversations the store's key order is by conversation first: newest first is by the
    // order key (time, then id) after it. Keys are cheap; every match is asked for, up to a bound.
    const orderOf = (key: string) => key.slice(key.lastIndexOf("/") + 1);
    const keys = await this.kv.search(K.allMessages, query, SEARCH_MATCHES_BOUND);
    keys.sort((a, b) => (orderOf(a) < orderOf(b) ? 1 : orderOf(a) > orderOf(b) ? -1 : 0));
    return this.loadMessages(keys.slice(0, limit));
  }

  private async loadMessages(keys: string[]): Promise<MessageRecord[]> {
    const found: MessageRecord[] = [];
    for (const key of keys) {
      const m = await this.getJson<MessageRecord>(key);
      if (m) found.push(m);
    }
    return found;
  }

  /** The newest `limit` messages of a conversation, oldest first. */
  async messages(conversationId: string, limit = 1000): Promise<MessageRecord[]> {
    const newest = await this.listJson<MessageRecord>(K.messages(conversationId), { reverse: true, limit });
    return newest.reverse();
  }

  /**
   * What names a group's stored state without its (large) epoch part: the epoch, and the ratchet
   * part, which every save rewrites (live-states.ts compares it with what it saved).
   */
  async groupStateTag(groupId: string): Promise<{ epoch: bigint; ratchetPart: Uint8Array } | undefined> {
    const [epoch, ratchetPart] = await Promise.all([
      this.kv.get(K.mlsEpoch(groupId)),
      this.kv.get(K.mlsRatchetPart(groupId)),
    ]);
    if (!epoch || !ratchetPart) return undefined;
    return { epoch: BigInt(fromUtf8(epoch)), ratchetPart };
  }

  /** The stored state; `tag`: its epoch and ratchet part, already read (groupStateTag). */
  async groupState(
    groupId: string,
    tag?: { epoch: bigint; ratchetPart: Uint8Array },
  ): Promise<SerializedGroupState | undefined> {
    const [named, epochPart, pieces] = await Promise.all([
      tag ?? this.groupStateTag(groupId),
      this.kv.get(K.mlsEpochPart(groupId)),
      this.groupTreePieces(groupId),
    ]);
    if (!named || !epochPart) return undefined;
    this.savedEpochs.set(groupId, named.epoch);
    return {
      epoch: named.epoch,
      epochPart,
      ratchetPart: named.ratchetPart,
      ...(pieces.length > 0 ? { tree: { pieces, held: pieces.length } } : {}),
    };
  }

  /** The group's stored tree pieces, in order (up to the first gap: later ones are of no chain). */
  async groupTreePieces(groupId: string): Promise<Uint8Array[]> {
    const pieces: Uint8Array[] = [];
    for (const [key, value] of await this.kv.list(K.mlsTreePieces(groupId))) {
      if (key !== K.mlsTreePiece(groupId, pieces.length)) break;
      pieces.push(value);
    }
    this.treePieceCounts.set(groupId, pieces.length);
    return pieces;
  }

  /**
   * Writes the ratchet part always; the (larger) epoch part when the epoch moved or the tree did
   * (the epoch part counts its pieces), and of the tree pieces only those the store does not hold.
   */
  putGroupState(b: Batch, groupId: string, s: SerializedGroupState): Batch {
    const tree = s.tree;
    const treeMoved = tree !== undefined && tree.held < tree.pieces.length;
    if (this.savedEpochs.get(groupId) !== s.epoch || treeMoved) {
      b.putBytes(K.mlsEpoch(groupId), utf8(s.epoch.toString())).putBytes(
        K.mlsEpochPart(groupId),
        s.epochPart,
      );
    }
    if (tree !== undefined && treeMoved) {
      for (let i = tree.held; i < tree.pieces.length; i++)
        b.putBytes(K.mlsTreePiece(groupId, i), tree.pieces[i]!);
      // Pieces of a chain this one replaced (a whole tree written again) go.
      const known = this.treePieceCounts.get(groupId) ?? 0;
      for (let i = tree.pieces.length; i < known; i++) b.delete(K.mlsTreePiece(groupId, i));
      b.afterCommit(() => this.treePieceCounts.set(groupId, tree.pieces.length));
    }
    return b.putBytes(K.mlsRatchetPart(groupId), s.ratchetPart);
  }
  /** Forgets a group's keys (left or removed): nothing on this device can decrypt it any more. */
  async deleteGroupState(b: Batch, groupId: string): Promise<Batch> {
    this.savedEpochs.delete(groupId);
    this.treePieceCounts.delete(groupId);
    this.liveStates.forget(groupId);
    for (const [key] of await this.kv.list(K.mlsTreePieces(groupId))) b.delete(key);
    return b
      .afterCommit(() => this.liveStates.forget(groupId))
      .delete(K.mlsEpoch(groupId))
      .delete(K.mlsEpochPart(groupId))
      .delete(K.mlsRatchetPart(groupId))
      .delete(K.mlsSendingAhead(groupId));
  }
  sendingAhead = (groupId: string) => this.getJson<SendingAheadRecord>(K.mlsSendingAhead(groupId));
  putSendingAhead = (b: Batch, groupId: string, r: SendingAheadRecord) =>
    b.put(K.mlsSendingAhead(groupId), r);

  /**
   * Forgets a conversation on this device: its record, history, held messages, ratchet marks,
   * digests, outbox entries, member names, receive-queue bookkeeping and MLS state. Adds the
   * deletions to `b` (the store's secure_delete zeroes what they free).
   */
  async deleteConversation(b: Batch, c: ConversationRecord): Promise<Batch> {
    for (const prefix of [...K.conversationData(c.id), ...K.queueData(c.receive.queueId)]) {
      for (const [key] of await this.kv.list(prefix)) b.delete(key);
    }
    for (const [order, entry] of await this.outbox()) {
      if (entry.conversationId === c.id) b.delete(K.outbox(order));
    }
    for (const [key, value] of await this.kv.list(K.uploads)) {
      if (unjson<{ conversationId?: string }>(value).conversationId === c.id) b.delete(key);
    }
    b.delete(K.route(c.receive.queueId)).delete(K.cursor(c.receive.queueId)).delete(K.memberNames(c.id));
    b.delete(K.conversation(c.id));
    return await this.deleteGroupState(b, c.groupId);
  }

  /** Forgets a contact's record and the KeyPackages they gave us (their conversations: above). */
  async deleteContact(b: Batch, contact: ContactRecord): Promise<Batch> {
    for (const [key] of await this.kv.list(K.theirKeyPackages(contact.id))) b.delete(key);
    return newContactsRevision(b).delete(K.contact(contact.id));
  }

  /** Call after a batch holding putGroupState has committed. */
  groupStateSaved(groupId: string, epoch: bigint): void {
    this.savedEpochs.set(groupId, epoch);
  }

  afterMigration = () => this.getJson<AfterMigrationRecord>(K.afterMigration);
  /** Stores what is left to do after a migration, or forgets the record once nothing is. */
  putAfterMigration = (b: Batch, r: AfterMigrationRecord) =>
    r.keyPackages.length === 0 && r.needsReadd.length === 0
      ? b.delete(K.afterMigration)
      : b.put(K.afterMigration, r);

  schemaVersion = async (): Promise<number | undefined> =>
    (await this.getJson<{ version: number }>(K.schema))?.version;
  putSchemaVersion = (b: Batch, version: number) => b.put(K.schema, { version });
}

/**
 * What search finds a message by: its text (a file's caption) and its file's name. A message
 * deleted for everyone has none, and an edit replaces it: old words are not found any more.
 */
export function searchableText(m: MessageRecord): string | null {
  if (m.deleted !== undefined) return null;
  const text = [m.text, m.file?.name ?? ""].filter((t) => t !== "").join("\n");
  return text === "" ? null : text;
}

export { Batch };
export const b64 = toBase64Url;
export const unb64 = fromBase64Url;

/**
 * A fresh contacts revision in `b`, written once per batch (it is only compared for equality): a
 * batch that already holds one where it was put (not cleared since) is left as it is.
 */
function newContactsRevision(b: Batch): Batch {
  const at = revisionAt.get(b);
  if (at === undefined || b.writes[at]?.key !== K.contactsRevision) {
    revisionAt.set(b, b.writes.length);
    b.putBytes(K.contactsRevision, utf8(toBase64Url(globalThis.crypto.getRandomValues(new Uint8Array(12)))));
  }
  return b;
}
const revisionAt = new WeakMap<Batch, number>();
