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
  kind: "direct";
  groupId: string; // base64url MLS group id
  receive: QueueCredentials;
  sendTo: SendAddress | null;
  contactId: string;
  createdAt: number;
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
  senderContactId: string | null;
  text: string;
  sentAt: number;
  receivedAt: number | null;
  status: MessageStatus;
  /** Local order key, so history lists in the order this device saw it. */
  key: string;
}
