/**
 * What the engine shows: views of messages, contacts, conversations and group members, and the
 * events it reports. Views carry identity keys and names as data; the CLI and the web app decide
 * how to say them ("(not a contact)", "a new member"): nothing here is worded for a person.
 */
import type { DetectedType, FileWarning } from "../files/detect.js";
import type { RemovedMetadata } from "../files/strip-metadata.js";
import type { GroupStatus, MessageStatus } from "../store/records.js";

/**
 * A person as this device knows them. `name`: ours for them if they are a contact (or our own
 * name), else the name they gave the group, else null (they have not said yet).
 */
export interface PersonRef {
  identityKey: string;
  name: string | null;
  relation: "me" | "contact" | "member";
}

/** A message as a UI or the CLI shows it. */
export interface MessageView {
  conversation: string; // the contact's or the group's name
  conversationId: string;
  kind: "direct" | "group";
  id: string;
  from: PersonRef;
  fromMe: boolean;
  text: string;
  sentAt: string; // ISO 8601
  receivedAt: string | null;
  status: MessageStatus;
  /** A file message: the attachment (`text` is its caption, or ""). */
  file?: FileView;
  /** A reply: the message it answers, as this device has it now. */
  quote?: QuoteView;
  /** When its author last edited it (their clock); absent if never. */
  edited?: string;
  /** When its author deleted it for everyone: `text` is "" and nothing of it is kept. */
  deleted?: string;
  /** Reactions, one entry per emoji, most given first. Absent when there are none. */
  reactions?: ReactionView[];
  /** "@Name" in a group message: who and where in `text` (UTF-16 offsets, end excluded). */
  mentions?: MentionView[];
  /** Whether one of the mentions is us. */
  mentionsMe?: boolean;
  /** Our messages: who said they read it (read receipts). Absent when nobody has. */
  readBy?: PersonRef[];
}

/**
 * The message a reply answers. `missing`: this device does not have it (never arrived, or older
 * than its history); `deleted`: its author deleted it. Then `from` may be null and `text` is "".
 */
export interface QuoteView {
  id: string;
  from: PersonRef | null;
  /** Its text (a file's caption), at most QUOTE_LENGTH characters. */
  text: string;
  /** A file message: the file's name. */
  fileName: string | null;
  missing: boolean;
  deleted: boolean;
}

export interface ReactionView {
  emoji: string;
  count: number;
  /** Whether one of them is ours. */
  mine: boolean;
  by: PersonRef[];
}

export interface MentionView {
  person: PersonRef;
  start: number;
  end: number;
}

/** A file as a UI shows it before (and after) it is fetched. Its id is the message's. */
export interface FileView {
  id: string;
  name: string;
  size: number;
  /** The type its sender declared, if any. */
  mime: string | null;
  /**
   * The real type: detected by this device from the content once fetched (`checked`), before that
   * what the sender's device detected (a claim: a modified sender can lie; the check after download
   * is the one that counts).
   */
  detected: DetectedType | null;
  checked: boolean;
  /** Mismatches between name, declared and real type; dangerous kinds of file. */
  warnings: FileWarning[];
  caption: string | null;
  thumbnail: { mime: string; data: string } | null;
  /** Sent by us: metadata removed before it left. */
  removed: RemovedMetadata[];
  /** Ours, and this device holds its delete capability: it can be deleted from the relay now. */
  deletable: boolean;
  /** Its sender deleted it from the relay (we did, or a download was told so): it cannot be fetched. */
  deleted: boolean;
}

export interface ContactView {
  id: string;
  name: string;
  identityKey: string;
  verified: boolean;
  keyChanged: boolean;
  /** Their identity key changed while they were verified: nothing goes to them until it is accepted. */
  mustAccept: boolean;
  conversationId: string;
  canSend: boolean;
  /** What they write is dropped on arrival; we cannot write to them. */
  blocked: boolean;
  /** Their profile photo (image bytes, base64url), or null. */
  photo: { mime: string; data: string } | null;
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
  status?: GroupStatus;
  /** With status "needs-readd": why (a diagnostic, in English). */
  statusReason?: string;
  /** No notifications for it (this device's setting). */
  muted: boolean;
  /** Disappearing messages: the timer in seconds, agreed in the conversation; null or absent: off. */
  expireAfter?: number | null;
  /** Out of the main list: archived, and nothing newer since (or muted). */
  archived: boolean;
  /** Whether we send read receipts and typing indicators here (client/receipts.ts). */
  readReceipts: boolean;
  typingIndicators: boolean;
}

export interface GroupMemberView extends PersonRef {
  role: "admin" | "member";
  isMe: boolean;
  /** Contacts: whether their safety number was compared; "member": not a contact; "me": us. */
  safety: "verified" | "unverified" | "member" | "me";
  devices: number;
}
