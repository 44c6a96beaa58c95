/**
 * Typed access to a device's KeyValueStore. All key layout lives here, so the client above reads as
 * domain logic and a backend below only sees opaque keys and bytes.
 */
import { fromBase64Url, toBase64Url } from "../encoding/base64url.js";
import { fromUtf8, utf8 } from "../encoding/bytes.js";
import type { SerializedGroupState } from "../mls/engine.js";
import type { KeyValueStore, KvWrite } from "../storage/key-value-store.js";
import type {
  ContactKeyPackage,
  ContactRecord,
  ConversationRecord,
  HeldMessage,
  MessageRecord,
  PendingInviteRecord,
  ProfileRecord,
  QueueRoute,
} from "./records.js";

const json = (value: unknown): Uint8Array => utf8(JSON.stringify(value));
const unjson = <T>(bytes: Uint8Array): T => JSON.parse(fromUtf8(bytes)) as T;

const K = {
  profile: "profile",
  contact: (id: string) => `contact/${id}`,
  conversation: (id: string) => `conv/${id}`,
  invite: (queueId: string) => `invite/${queueId}`,
  route: (queueId: string) => `route/${queueId}`,
  seen: (queueId: string, msgId: string) => `seen/${queueId}/${msgId}`,
  /** KeyPackages contacts gave us, one key each so any can be used once and deleted. */
  theirKeyPackage: (contactId: string, ref: string) => `kp-theirs/${contactId}/${ref}`,
  /** Private halves of KeyPackages we gave out, by KeyPackage reference. */
  ownKeyPackage: (ref: string) => `kp-own/${ref}`,
  /** Display names members chose for themselves in a group. */
  memberName: (conversationId: string, identityKey: string) => `gname/${conversationId}/${identityKey}`,
  /** Broadcast (group) queues: the last message processed, where the next fetch starts. */
  cursor: (queueId: string) => `cursor/${queueId}`,
  message: (conversationId: string, key: string) => `msg/${conversationId}/${key}`,
  messageIndex: (conversationId: string, id: string) => `msgid/${conversationId}/${id}`,
  /** The furthest point seen in each sender device's application ratchet: {epoch, generation}. */
  ratchetSeen: (conversationId: string, deviceKey: string) => `gen/${conversationId}/${deviceKey}`,
  /** Messages of an epoch not reached yet, kept until the commit that leads there is processed. */
  held: (conversationId: string, key: string) => `held/${conversationId}/${key}`,
  mlsEpoch: (groupId: string) => `mls/${groupId}/epoch`,
  mlsEpochPart: (groupId: string) => `mls/${groupId}/e`,
  mlsRatchetPart: (groupId: string) => `mls/${groupId}/r`,
};

/** A batch of writes that lands atomically; build it up, then `commit`. */
export class Batch {
  readonly writes: KvWrite[] = [];
  put(key: string, value: unknown): this {
    this.writes.push({ key, value: json(value) });
    return this;
  }
  putBytes(key: string, value: Uint8Array): this {
    this.writes.push({ key, value });
    return this;
  }
  delete(key: string): this {
    this.writes.push({ key, value: null });
    return this;
  }
}

export class ProfileRepository {
  /** Epoch of the state last saved per group, so a message within an epoch rewrites only the ratchet part. */
  private readonly savedEpochs = new Map<string, bigint>();

  constructor(readonly kv: KeyValueStore) {}

  batch(): Batch {
    return new Batch();
  }
  commit(batch: Batch): Promise<void> {
    return this.kv.write(batch.writes);
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

  contact = (id: string) => this.getJson<ContactRecord>(K.contact(id));
  contacts = () => this.listJson<ContactRecord>("contact/");
  putContact = (b: Batch, c: ContactRecord) => b.put(K.contact(c.id), c);

  conversation = (id: string) => this.getJson<ConversationRecord>(K.conversation(id));
  conversations = () => this.listJson<ConversationRecord>("conv/");
  putConversation = (b: Batch, c: ConversationRecord) => b.put(K.conversation(c.id), c);

  invite = (queueId: string) => this.getJson<PendingInviteRecord>(K.invite(queueId));
  invites = () => this.listJson<PendingInviteRecord>("invite/");
  putInvite = (b: Batch, i: PendingInviteRecord) => b.put(K.invite(i.queue.queueId), i);
  deleteInvite = (b: Batch, queueId: string) => b.delete(K.invite(queueId));

  route = (queueId: string) => this.getJson<QueueRoute>(K.route(queueId));
  putRoute = (b: Batch, queueId: string, r: QueueRoute) => b.put(K.route(queueId), r);

  async theirKeyPackages(contactId: string): Promise<[string, ContactKeyPackage][]> {
    return (await this.kv.list(`kp-theirs/${contactId}/`)).map(([k, v]) => [k, unjson<ContactKeyPackage>(v)]);
  }
  putTheirKeyPackage = (b: Batch, ref: string, k: ContactKeyPackage) =>
    b.put(K.theirKeyPackage(k.contactId, ref), k);
  deleteKey = (b: Batch, key: string) => b.delete(key);

  ownKeyPackage = (ref: string) =>
    this.getJson<{ publicMessage: string; privateKey: string }>(K.ownKeyPackage(ref));
  putOwnKeyPackage = (b: Batch, ref: string, k: { publicMessage: string; privateKey: string }) =>
    b.put(K.ownKeyPackage(ref), k);
  deleteOwnKeyPackage = (b: Batch, ref: string) => b.delete(K.ownKeyPackage(ref));

  memberName = (conversationId: string, identityKey: string) =>
    this.getJson<string>(K.memberName(conversationId, identityKey));
  putMemberName = (b: Batch, conversationId: string, identityKey: string, name: string) =>
    b.put(K.memberName(conversationId, identityKey), name);

  cursor = (queueId: string) => this.getJson<string>(K.cursor(queueId));
  putCursor = (b: Batch, queueId: string, msgId: string) => b.put(K.cursor(queueId), msgId);
  deleteCursor = (b: Batch, queueId: string) => b.delete(K.cursor(queueId));
  ratchetSeen = (conversationId: string, deviceKey: string) =>
    this.getJson<{ epoch: string; generation: number }>(K.ratchetSeen(conversationId, deviceKey));
  putRatchetSeen = (b: Batch, conversationId: string, deviceKey: string, epoch: bigint, generation: number) =>
    b.put(K.ratchetSeen(conversationId, deviceKey), { epoch: epoch.toString(), generation });
  /** Held messages of a conversation, oldest first (at most `limit`): [store key, record]. */
  held = async (conversationId: string, limit?: number) =>
    (await this.kv.list(K.held(conversationId, ""), limit === undefined ? {} : { limit })).map(
      ([key, value]): [string, HeldMessage] => [key, unjson<HeldMessage>(value)],
    );
  putHeld = (b: Batch, conversationId: string, order: string, m: HeldMessage) =>
    b.put(K.held(conversationId, order), m);

  async seen(queueId: string, msgId: string): Promise<boolean> {
    return (await this.kv.get(K.seen(queueId, msgId))) !== undefined;
  }
  markSeen = (b: Batch, queueId: string, msgId: string) =>
    b.putBytes(K.seen(queueId, msgId), new Uint8Array([1]));

  async message(conversationId: string, id: string): Promise<MessageRecord | undefined> {
    const key = await this.getJson<string>(K.messageIndex(conversationId, id));
    return key === undefined ? undefined : this.getJson<MessageRecord>(K.message(conversationId, key));
  }
  putMessage(b: Batch, m: MessageRecord): Batch {
    return b.put(K.message(m.conversationId, m.key), m).put(K.messageIndex(m.conversationId, m.id), m.key);
  }
  /** The newest `limit` messages of a conversation, oldest first. */
  async messages(conversationId: string, limit = 1000): Promise<MessageRecord[]> {
    const newest = await this.listJson<MessageRecord>(`msg/${conversationId}/`, { reverse: true, limit });
    return newest.reverse();
  }

  async groupState(groupId: string): Promise<SerializedGroupState | undefined> {
    const [epoch, epochPart, ratchetPart] = await Promise.all([
      this.kv.get(K.mlsEpoch(groupId)),
      this.kv.get(K.mlsEpochPart(groupId)),
      this.kv.get(K.mlsRatchetPart(groupId)),
    ]);
    if (!epoch || !epochPart || !ratchetPart) return undefined;
    const e = BigInt(fromUtf8(epoch));
    this.savedEpochs.set(groupId, e);
    return { epoch: e, epochPart, ratchetPart };
  }

  /** Writes the ratchet part always, and the (larger) epoch part only when the epoch moved. */
  putGroupState(b: Batch, groupId: string, s: SerializedGroupState): Batch {
    if (this.savedEpochs.get(groupId) !== s.epoch) {
      b.putBytes(K.mlsEpoch(groupId), utf8(s.epoch.toString())).putBytes(
        K.mlsEpochPart(groupId),
        s.epochPart,
      );
    }
    return b.putBytes(K.mlsRatchetPart(groupId), s.ratchetPart);
  }
  /** Forgets a group's keys (left or removed): nothing on this device can decrypt it any more. */
  deleteGroupState(b: Batch, groupId: string): Batch {
    this.savedEpochs.delete(groupId);
    return b.delete(K.mlsEpoch(groupId)).delete(K.mlsEpochPart(groupId)).delete(K.mlsRatchetPart(groupId));
  }

  /** Call after a batch holding putGroupState has committed. */
  groupStateSaved(groupId: string, epoch: bigint): void {
    this.savedEpochs.set(groupId, epoch);
  }
}

export const b64 = toBase64Url;
export const unb64 = fromBase64Url;
