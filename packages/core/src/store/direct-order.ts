/**
 * Our commit to a 1:1 chat whose receive queue our devices share, waiting for that queue to confirm
 * it as its epoch's first (client/devices/direct-order.ts). Values are encrypted by the store like
 * every record; the key holds only the local conversation id.
 */

import type { QueueCredentials } from "../relay-client/signing.js";
import { type Batch, unjson } from "./batch.js";
import { Keys as K } from "./keys.js";
import type { ProfileRepository } from "./repository.js";
import type { StagedState } from "./staged-state.js";

export interface DirectCommitRecord {
  /** The epoch the commit was made in, and SHA-256 (hex) of the commit message as sent. */
  baseEpoch: string;
  digest: string;
  /** The commit message (base64url): it goes to the contact once it has won. */
  commit: string;
  /** The state it leads to, with what was sealed after it (SerializedGroupState, base64url parts). */
  staged: StagedState;
  /** base64url Welcome, when the commit adds a device. */
  welcome?: string;
  /** Sealed in the new epoch, sent once the commit has won: to the contact, and to our shared queue. */
  toContact: string[];
  toShared: string[];
  /** The queue the commit was published on (our devices' shared queue of the chat at that time). */
  queue: QueueCredentials;
  /** The chat's new shared queue, taken when the commit wins (a revocation moves the chat). */
  receive?: QueueCredentials;
  /**
   * sent: published, not yet seen in the queue. won: seen first for its epoch, applied; its
   * messages to the contact and to our devices remain to go. lost: another commit took its epoch.
   */
  status: "sent" | "won" | "lost";
  /** The relay msgId of the commit once seen in the queue (a new device reads on from there). */
  cursor?: string;
}

export const directCommit = async (repo: ProfileRepository, conversationId: string) => {
  const bytes = await repo.kv.get(K.directCommit(conversationId));
  return bytes === undefined ? undefined : unjson<DirectCommitRecord>(bytes);
};
/** The conversation ids of those waiting (a sync looks at these only, not at every chat). */
export const directCommitIds = async (repo: ProfileRepository) =>
  (await repo.kv.list(K.directCommits)).map(([k]) => k.slice(K.directCommits.length));
export const putDirectCommit = (b: Batch, conversationId: string, r: DirectCommitRecord) =>
  b.put(K.directCommit(conversationId), r);
export const deleteDirectCommit = (b: Batch, conversationId: string) =>
  b.delete(K.directCommit(conversationId));
