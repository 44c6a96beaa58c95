/**
 * The records of commit ordering (client/groups/commit-order.ts): our commit waiting for the group
 * queue to confirm it, and our application messages waiting for their echo. Values are encrypted by
 * the store like every record; keys hold only local ids and digests.
 */

import type { Body } from "../content/index.js";
import type { QueueCredentials } from "../relay-client/signing.js";
import { type Batch, unjson } from "./batch.js";
import { Keys as K } from "./keys.js";
import type { ProfileRepository } from "./repository.js";
import type { StagedState } from "./staged-state.js";

export interface LinkJoin {
  identityKey: string;
  keyPackage: string;
  reply: { relay: string; sendId: string };
  replyKey: string;
  name: string;
}

/**
 * A member's device to re-add (it asked: client/groups/dead-epoch.ts): its old leaf, found by its
 * device key, leaves, and its new KeyPackage comes in, in the same commit.
 */
export interface ReaddIntent {
  contactId: string;
  ref: string;
  keyPackage: string;
  deviceKey: string;
}

/** A change to a group as the user asked for it, redone as such on a newer epoch if it loses. */
export interface CommitIntent {
  /** Contacts to add, each with the KeyPackage picked for them (base64url) and its local reference. */
  add?: {
    contactId: string;
    ref: string;
    keyPackage: string;
    /** Their last-resort KeyPackage (client/key-packages.ts): stays in their stock once used. */
    lastResort?: true;
  }[];
  /**
   * People who asked to join through a group link (client/group-links/): not our contacts, so
   * their Welcome goes sealed to the queue they named (messaging/group-link.ts), not to a 1:1 chat.
   */
  join?: LinkJoin[];
  /**
   * New devices of ours to add (docs/devices.md): their KeyPackage and the link they came by, under
   * which the Welcome is kept for the link to pass on (`linkWelcome`). Allowed without being admin.
   */
  devices?: { keyPackage: string; link: string }[];
  /** Members' devices that asked to be re-added: their old leaf out, their new KeyPackage in. */
  readd?: ReaddIntent[];
  /** Device keys (base64url) of ours whose leaves leave the group (a revoked device). */
  revokeDevices?: string[];
  /** Identity keys (base64url) whose every device leaves the group. */
  remove?: string[];
  /** A new name; identity keys to make admins or to stop being admins. */
  rename?: string;
  promote?: string[];
  demote?: string[];
  /** Our own leave: we mark ourselves `leaving`, so that any member may remove us (leave-rule.ts). */
  leave?: true;
  /** A fresh UpdatePath only (also what any commit carries). */
  rekey?: true;
  /** Skip our own admin check (tests only: to prove that the other members enforce it). */
  unchecked?: true;
}

export interface PendingCommitRecord {
  intent: CommitIntent;
  /** The epoch the commit was made in, and SHA-256 (hex) of the commit message as sent. */
  baseEpoch: string;
  digest: string;
  /** The state the commit leads to (SerializedGroupState, base64url parts). */
  staged: StagedState;
  /** base64url Welcome, when the commit adds members. */
  welcome?: string;
  /**
   * sent: published, not yet seen in the queue. won: seen first for its epoch, applied; its Welcomes
   * (and a removal's queue move) remain to go out. lost: another commit took its epoch first.
   */
  status: "sent" | "won" | "lost";
  /** The relay msgId of the commit once seen in the queue (new members read on from there). */
  cursor?: string;
  /**
   * The queue that msgId is on: the group's queue when the commit won. New members are sent to this
   * one, not to wherever the group is by the time the Welcomes leave — the commits between theirs
   * and a later move are on it, and the move itself tells them where to go next.
   */
  cursorQueue?: QueueCredentials;
  /** Times this change was redone after losing. */
  redone: number;
  /** The commit message as sent (base64url), to send again should it never have left. */
  commit: string;
  /** Changes asked for while this one waited: committed after it. */
  next?: CommitIntent;
}

/** An application message we sent, with what is needed to seal it again in a newer epoch. */
export interface GroupSentRecord {
  epoch: string;
  id: string;
  sentAt: number;
  body: Body;
  /** The outbox order key it was sent under. */
  order: string;
}

export const pendingCommit = async (repo: ProfileRepository, conversationId: string) => {
  const bytes = await repo.kv.get(K.pendingCommit(conversationId));
  return bytes === undefined ? undefined : unjson<PendingCommitRecord>(bytes);
};
export const putPendingCommit = (b: Batch, conversationId: string, r: PendingCommitRecord) =>
  b.put(K.pendingCommit(conversationId), r);
/** The pending commit goes, and with it how far its Welcomes went. */
export const deletePendingCommit = (b: Batch, conversationId: string) =>
  b.delete(K.pendingCommit(conversationId)).delete(K.welcomeProgress(conversationId));

/**
 * How many of a won commit's invitees (people), re-added devices and link joiners have had their
 * Welcome (client/followups/group-order.ts): a small record of its own, written once per Welcome,
 * while the pending commit — which holds the Welcome and every invitee — is written once. Rewriting
 * that record once per invitee made adding 5,000 people quadratic: ~606 s of CPU for a first post to
 * 5,000 friends (bench feed), 9 s before.
 */
export interface WelcomeProgressRecord {
  adds: number;
  readds: number;
  joins: number;
}
export const welcomeProgress = async (repo: ProfileRepository, conversationId: string) => {
  const bytes = await repo.kv.get(K.welcomeProgress(conversationId));
  return bytes === undefined ? undefined : unjson<WelcomeProgressRecord>(bytes);
};
export const putWelcomeProgress = (b: Batch, conversationId: string, r: WelcomeProgressRecord) =>
  b.put(K.welcomeProgress(conversationId), r);

export const groupSent = async (repo: ProfileRepository, conversationId: string, digest: string) => {
  const bytes = await repo.kv.get(K.groupSent(conversationId, digest));
  return bytes === undefined ? undefined : unjson<GroupSentRecord>(bytes);
};
export const groupSents = async (repo: ProfileRepository, conversationId: string) =>
  (await repo.kv.list(K.groupSents(conversationId))).map(([, v]) => unjson<GroupSentRecord>(v));
/** The same, each with the digest it is kept under. */
export const groupSentsWithDigest = async (repo: ProfileRepository, conversationId: string) => {
  const prefix = K.groupSents(conversationId);
  return (await repo.kv.list(prefix)).map(
    ([k, v]) => [k.slice(prefix.length), unjson<GroupSentRecord>(v)] as const,
  );
};
export const putGroupSent = (b: Batch, conversationId: string, digest: string, r: GroupSentRecord) =>
  b.put(K.groupSent(conversationId, digest), r);
export const deleteGroupSent = (b: Batch, conversationId: string, digest: string) =>
  b.delete(K.groupSent(conversationId, digest));

/** When our keys in a group are due for a refresh (client/groups/key-schedule.ts). */
export interface KeyScheduleRecord {
  /** Our last commit that won (every commit carries a fresh UpdatePath), ms since the epoch. */
  lastAt: number;
  /** Group messages read or sent since. */
  messages: number;
  /** This round's thresholds, jittered when the record is reset. */
  dueMs: number;
  dueMessages: number;
}

export const keySchedule = async (repo: ProfileRepository, conversationId: string) => {
  const bytes = await repo.kv.get(K.keySchedule(conversationId));
  return bytes === undefined ? undefined : unjson<KeyScheduleRecord>(bytes);
};
export const putKeySchedule = (b: Batch, conversationId: string, r: KeyScheduleRecord) =>
  b.put(K.keySchedule(conversationId), r);

/** The Welcome (and where to start reading) of a group a linked device was added to. */
export interface LinkWelcomeRecord {
  welcome: string;
  cursor?: string;
}
export const linkWelcome = async (repo: ProfileRepository, link: string, conversationId: string) => {
  const bytes = await repo.kv.get(K.linkWelcome(link, conversationId));
  return bytes === undefined ? undefined : unjson<LinkWelcomeRecord>(bytes);
};
export const putLinkWelcome = (b: Batch, link: string, conversationId: string, r: LinkWelcomeRecord) =>
  b.put(K.linkWelcome(link, conversationId), r);
export const deleteLinkWelcome = (b: Batch, link: string, conversationId: string) =>
  b.delete(K.linkWelcome(link, conversationId));
