/** What a device keeps about itself, its contacts and its conversations (all local, never on a relay). */

import type { SendAddress } from "../content/common.js";
import type { FileBody } from "../content/file.js";
import type { Mention } from "../content/message-ref.js";
import type { ProfilePhoto } from "../content/profile-photo.js";
import type { MlsCiphersuiteName } from "../crypto/provider.js";
import type { DetectedType, FileWarning } from "../files/detect.js";
import type { RemovedMetadata } from "../files/strip-metadata.js";
import type { QueueCredentials } from "../relay-client/signing.js";

export interface ProfileRecord {
  v: 1;
  name: string;
  relay: string;
  identityPublicKey: string; // base64url
  identitySecretKey: string;
  deviceKey: string;
  deviceSecretKey: string;
  certificate: string;
  createdAt: number;
  /** This device's name among the person's devices (given when it was linked; `parley devices`). */
  deviceName?: string;
  /**
   * A key reset (client/reset/) replaced the keys above; some conversations still have their leaf
   * on the old device (unreachable then): `parley reset` carries them over.
   */
  resetPending?: true;
  /** Our profile photo (client/profile-photo.ts): small, metadata stripped, sent to every contact. */
  photo?: ProfilePhoto;
  /** The identity key the last reset replaced (group admin lists still name it until carried over). */
  previousIdentityKey?: string;
  /** When the keys were last reset. */
  resetAt?: number;
}

/**
 * Device keys replaced by a key reset (theirs, learnt from their commits), by device key (base64url,
 * inside the value, never in a store key): the identity key that replaced each. Whatever the old
 * device key signs from then on is refused, in every conversation (client/reset/received.ts).
 * `revoked`: a device its person revoked (client/devices/revoke.ts); no replacement of it counts.
 */
export type KeyResetsRecord = Record<string, { replacedBy: string; at: number; revoked?: true }>;

/**
 * Our devices as this device knows them (client/devices/), by device key (base64url, inside the
 * value): the name each was linked under, when, and, once revoked, when. The devices that were
 * linked through this one, this one itself, and those it was told of when it was linked.
 */
export type DevicesRecord = Record<
  string,
  {
    name: string;
    addedAt: number;
    revokedAt?: number;
    /** The time its last `device-state` was sealed (its own clock, signed by it: end to end). */
    lastActiveAt?: number;
  }
>;

export interface ContactRecord {
  id: string;
  name: string;
  /** Did the name come from the contact itself (intro), or is it a placeholder until it does? */
  named: boolean;
  identityKey: string; // base64url
  conversationId: string;
  verified: boolean;
  /** Set when a different identity key appears for this contact; cleared by verifying again. */
  keyChanged: boolean;
  /**
   * Their identity key changed while they were verified: nothing is sent to them until we accept
   * the change (acceptKeyChange) or verify them again.
   */
  mustAccept?: true;
  /** Identity keys they had before a key reset, oldest first (their old messages name these). */
  previousIdentityKeys?: string[];
  /** The name is one we gave them (renameContact): the name they choose no longer replaces it. */
  ourName?: true;
  /** Blocked: what they write is dropped on arrival, in our chat and in groups (client/contacts.ts). */
  blocked?: true;
  /** The photo they chose for themselves (a `profile-photo` message), checked and stripped. */
  photo?: ProfilePhoto;
  addedAt: number;
}

interface ConversationBase {
  id: string;
  groupId: string; // base64url MLS group id
  receive: QueueCredentials;
  createdAt: number;
  /** This device's settings for it (client/conversations.ts): no notifications; archived since. */
  muted?: true;
  archivedAt?: number;
  /**
   * Disappearing messages (client/expire/): messages since `expireSince` are deleted once older
   * than `expireAfter` seconds; `expireSetAt` is the sender's time of the last change (on or off).
   */
  expireAfter?: number;
  expireSince?: number;
  expireSetAt?: number;
  /**
   * Whether we send read receipts and typing indicators here, when chosen (client/receipts.ts);
   * absent: the default, on in 1:1 chats and off in groups.
   */
  readReceipts?: boolean;
  typingIndicators?: boolean;
  /** The order key of the newest message we have read (markRead): read receipts go once. */
  readUpTo?: string;
}

/** A 1:1 conversation: an MLS group of exactly two identities. */
export interface DirectConversationRecord extends ConversationBase {
  kind: "direct";
  contactId: string;
  /** Where to send: null until the contact's intro tells us. */
  sendTo: SendAddress | null;
  /**
   * A later conversation with the same person (they accepted a second invite, or we did) took this
   * one's place: its history moved there, and what still arrives here is stored there too.
   */
  supersededBy?: string;
}

/**
 * "needs-readd": this device can no longer take part — its MLS state could not be carried over to
 * the current engine (store/migrations.ts), or it fell out of step with the group (a dead epoch,
 * client/groups/dead-epoch.ts): an admin has to re-add it. History stays.
 */
export type GroupStatus = "active" | "left" | "removed" | "needs-readd";

export interface GroupConversationRecord extends ConversationBase {
  kind: "group";
  /** The group's shared queue (the same as `receive`). */
  sendTo: SendAddress;
  /** The name from the group's metadata, cached for lookups. */
  name: string;
  /** Admins' identity keys, a copy of the metadata kept for cheap listing. */
  admins: string[];
  /** Queues the group moved away from, still read for stragglers until they expire. */
  previousQueues: QueueCredentials[];
  /** "left" or "removed" once we are no longer a member; "needs-readd" (with a reason) see above. */
  status: GroupStatus;
  /** Why the group is "needs-readd" (a diagnostic, in English). */
  statusReason?: string;
  /**
   * A dead epoch (client/groups/dead-epoch.ts): when we asked to be re-added (0: asking failed, to
   * try again at the next sync), whom (identity key), with which KeyPackage of ours (reference).
   */
  /**
   * The relay said messages of the group's queue expired before we read them, and nothing read
   * since told whether we missed a commit (client/groups/dead-epoch.ts): when it said so.
   */
  gapAt?: number;
  readd?: {
    cause: "messages_expired" | "commit_unreadable";
    /** The group's cipher suite: the KeyPackage we send must be of it. */
    suite: MlsCiphersuiteName;
    askedAt: number;
    admin?: string;
    ref?: string;
  };
  /** A feed group (posts/, docs/04-posts.md): one author's posts to one audience, not a chat. */
  feed?: true;
  /**
   * Our devices' own group (client/devices/self-group.ts): only our devices are in it, never shown
   * as a chat; read state and "last active" travel in it.
   */
  self?: true;
}

/** What a migration left for the next sync to do (Keys.afterMigration). */
export interface AfterMigrationRecord {
  /** Direct conversations whose contact gets fresh KeyPackages. */
  keyPackages: string[];
  /** Groups that became "needs-readd": reported once, as a `needs-readd` group event. */
  needsReadd: string[];
}

export type ConversationRecord = DirectConversationRecord | GroupConversationRecord;

/** A KeyPackage a contact gave us, to add them to a group. */
export interface ContactKeyPackage {
  contactId: string;
  keyPackage: string; // base64url MLSMessage(KeyPackage)
  receivedAt: number;
  /** Their last-resort KeyPackage of its suite (RFC 9420 §16.8): used when no other is left, and kept. */
  lastResort?: true;
}

/** The private half of a KeyPackage we gave out (see mls/engine.ts KeyPackageBundle), base64url. */
export interface OwnKeyPackage {
  publicMessage: string;
  privateKey: string;
  /**
   * Our last-resort KeyPackage for this contact (RFC 9420 §16.8): its private part stays after a
   * Welcome used it, since they may use it again. `retiredAt`: a newer one was given; this one is
   * deleted LAST_RESORT_GRACE_MS later (a Welcome made with it before then may still arrive).
   */
  lastResort?: { contactId: string; retiredAt?: number };
}

export interface PendingInviteRecord {
  queue: QueueCredentials;
  keyPackage: OwnKeyPackage;
  inviteId: string;
  createdAt: number;
}

export type QueueRoute =
  | { kind: "invite"; queueId: string }
  | { kind: "conversation"; conversationId: string }
  /** The join queue of a group link we made: join requests arrive here (store/group-links.ts). */
  | { kind: "group-link"; conversationId: string }
  /** The queue where the answer to our own join request comes. */
  | { kind: "group-join"; queueId: string };

export type MessageStatus = "sending" | "sent" | "delivered" | "failed" | "received";

/** A sealed message waiting for the relay to take it (client/outbox-delivery.ts). */
/**
 * Our application ratchet in a group may hand out generations below `bound` in `epoch` without a
 * sync to disk per message: this record was on disk before any of them left (client/sending-ahead.ts).
 */
export interface SendingAheadRecord {
  epoch: string;
  bound: number;
}

export interface OutboxEntry {
  /** The message's content id and its conversation. */
  messageId: string;
  conversationId: string;
  /** The MLS message (unpadded), base64url. Sealed once: a retry sends the same bytes. */
  payload: string;
  /** Tries so far, when the next may start (ms since the epoch), and why the last one failed. */
  attempts: number;
  nextAttemptAt: number;
  lastError?: string;
  /**
   * Not a message but a read receipt (client/receipts.ts) or another control message sent through
   * the outbox (outbox.ts sealControlLocked: a Welcome's invite): nobody is told when it goes, and
   * our other devices get no copy.
   */
  receipt?: true;
  /**
   * Sealed with a generation a reservation on disk covers (client/sending-ahead.ts): it may leave
   * before the store's next sync to disk.
   */
  ahead?: true;
}

export interface MessageRecord {
  id: string; // content id, chosen by the sender
  conversationId: string;
  fromMe: boolean;
  /** Identity key (base64url) of who sent it; null for our own messages. */
  senderIdentity: string | null;
  text: string;
  sentAt: number;
  receivedAt: number | null;
  status: MessageStatus;
  /** Local order key, so history lists in the order this device saw it. */
  key: string;
  /** A `file` message: the attachment (`text` is then its caption, or ""). Absent for text. */
  file?: FileRecord;
  /** A reply: the content id of the message it answers (shown from this history, never copied). */
  quote?: string;
  /** "@Name" in a group message: who (identity key) and where in `text`. */
  mentions?: Mention[];
  /** Edited by its author: the sender's time of the edit now shown (a later edit wins). */
  edited?: number;
  /**
   * Deleted for everyone by its author, at this time (the sender's clock). The text, the file, the
   * quote, the mentions and the reactions are gone from the record: really removed, not hidden.
   */
  deleted?: number;
  /**
   * Reactions by identity key (ours too): one emoji per person, or null once taken back (kept, with
   * its time, so an older reaction arriving late does not come back). `at`: the reactor's clock.
   */
  reactions?: Record<string, { emoji: string | null; at: number }>;
  /** Our messages: who said they read it (identity key → when this device learnt it). */
  readBy?: Record<string, number>;
}

/**
 * An edit, deletion or reaction whose message has not arrived yet (the relay reordered them, or the
 * message waits for its epoch): applied when the message is stored (client/inbox/changes.ts).
 */
export interface PendingChangeRecord {
  /** The change's own content id, and the content id of the message it is for. */
  id: string;
  target: string;
  /** Who sent it (identity key, authenticated by MLS) and their time for it. */
  by: string;
  at: number;
  change: MessageChange;
  receivedAt: number;
}

/** What an edit, deletion or reaction does to one message (content/edit.ts, delete.ts, reaction.ts). */
export type MessageChange =
  | { kind: "edit"; text: string; mentions?: Mention[] }
  | { kind: "delete" }
  | { kind: "reaction"; emoji: string | null };

/**
 * A file message as this device keeps it: what the message said (content/file.ts, without `type`),
 * and what this device found itself once it fetched the file (`checked`).
 */
export interface FileRecord extends Omit<FileBody, "type"> {
  /** Set once this device downloaded, verified and decrypted it: the type detected from content. */
  checked?: { detected: DetectedType | null; warnings: FileWarning[] };
  /** Sent by us: the metadata removed before it left (strip-metadata.ts). */
  removed?: RemovedMetadata[];
  /**
   * Sent by us: the blob's delete capability (from its upload), so that we can delete it from the
   * relay before it expires (`deleteFile`). It never leaves this device: no message carries it.
   */
  deleteCap?: string;
  /** The relay no longer holds it because its sender deleted it (we did, or a download was told so). */
  deleted?: boolean;
}

/** A message of an MLS epoch this device has not reached yet, kept to be processed after the commit. */
export interface HeldMessage {
  queueId: string;
  msgId: string;
  payload: string; // base64url, unpadded MLSMessage
  heldAt: number;
}

/** The furthest point seen in one sender leaf's application ratchet (gap detection). */
export interface RatchetMark {
  /** The device at that leaf when the mark was set: a new device at a reused leaf starts afresh. */
  deviceKey: string;
  epoch: string;
  generation: number;
}
