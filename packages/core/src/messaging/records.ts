/** What a device keeps about itself, its contacts and its conversations (all local, never on a relay). */
import type { QueueCredentials } from "../relay-client/signing.js";
import type { SendAddress } from "./content.js";

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
}

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
  addedAt: number;
}

export interface ConversationRecord {
  id: string;
  kind: "direct" | "group";
  groupId: string; // base64url MLS group id
  receive: QueueCredentials;
  sendTo: SendAddress | null;
  /** Direct conversations: the contact. Empty for groups. */
  contactId: string;
  /** Groups: the name from the group's metadata, cached for lookups. */
  name?: string;
  /** Groups: admins' identity keys, a copy of the metadata kept for cheap listing. */
  admins?: string[];
  /** Groups: the last message processed on the shared queue (the relay keeps group messages until expiry). */
  cursor?: string;
  /** Groups: queues the group moved away from, still read for stragglers until they expire. */
  previousQueues?: QueueCredentials[];
  /** Groups: "left" or "removed" once we are no longer a member. */
  status?: "active" | "left" | "removed";
  createdAt: number;
}

/** A KeyPackage a contact gave us, to add them to a group. */
export interface ContactKeyPackage {
  contactId: string;
  keyPackage: string; // base64url MLSMessage(KeyPackage)
  receivedAt: number;
}

export interface PendingInviteRecord {
  queue: QueueCredentials;
  keyPackage: { publicMessage: string; privateKey: string };
  inviteId: string;
  createdAt: number;
}

export type QueueRoute =
  | { kind: "invite"; queueId: string }
  | { kind: "conversation"; conversationId: string };

export type MessageStatus = "sending" | "sent" | "delivered" | "failed" | "received";

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
}

/** A message of an MLS epoch this device has not reached yet, kept to be processed after the commit. */
export interface HeldMessage {
  queueId: string;
  msgId: string;
  payload: string; // base64url, unpadded MLSMessage
  heldAt: number;
}
