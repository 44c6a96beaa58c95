/**
 * The records of group invite links (client/group-links/, messaging/group-link.ts): a link we
 * made for a group, the join requests waiting for approval, and our own requests to join. Values
 * are encrypted by the store like every record; keys hold only local ids and relay queue ids.
 */
import type { QueueCredentials } from "../relay-client/signing.js";
import { type Batch, unjson } from "./batch.js";
import { Keys as K } from "./keys.js";
import type { OwnKeyPackage } from "./records.js";
import type { ProfileRepository } from "./repository.js";

export interface GroupLinkRecord {
  conversationId: string;
  /**
   * Join requests arrive here. A broadcast queue, read by every admin device the link was shared
   * with (`group-link`); a link made before links were shared has a unicast queue only its
   * maker's device reads.
   */
  queue: QueueCredentials;
  /** Where the sealed link payload lies (peeked by joiners; claimed to revoke). */
  relay: string;
  inviteId: string;
  /** The link's key (base64url): opens the payload and every join request. */
  key: string;
  link: string;
  expiresAt?: number;
  approve: boolean;
  createdAt: number;
}

export interface JoinRequestRecord {
  id: string;
  conversationId: string;
  name: string;
  identityKey: string;
  keyPackage: string;
  reply: { relay: string; sendId: string };
  replyKey: string;
  at: number;
}

export interface GroupJoinRecord {
  /** Our queue where the admin's answer (the Welcome) comes. */
  queue: QueueCredentials;
  keyPackage: OwnKeyPackage;
  replyKey: string;
  groupId: string;
  admin: string;
  group: string;
  createdAt: number;
}

const get = async <T>(repo: ProfileRepository, key: string) => {
  const bytes = await repo.kv.get(key);
  return bytes === undefined ? undefined : unjson<T>(bytes);
};
const list = async <T>(repo: ProfileRepository, prefix: string) =>
  (await repo.kv.list(prefix)).map(([, v]) => unjson<T>(v));

export const groupLink = (repo: ProfileRepository, conversationId: string) =>
  get<GroupLinkRecord>(repo, K.groupLink(conversationId));
export const groupLinks = (repo: ProfileRepository) => list<GroupLinkRecord>(repo, K.groupLinks);
export const putGroupLink = (b: Batch, r: GroupLinkRecord) => b.put(K.groupLink(r.conversationId), r);
export const deleteGroupLink = (b: Batch, conversationId: string) => b.delete(K.groupLink(conversationId));

export const joinRequests = (repo: ProfileRepository, conversationId: string) =>
  list<JoinRequestRecord>(repo, K.joinRequests(conversationId));
export const putJoinRequest = (b: Batch, r: JoinRequestRecord) =>
  b.put(K.joinRequest(r.conversationId, r.id), r);
export const deleteJoinRequest = (b: Batch, conversationId: string, id: string) =>
  b.delete(K.joinRequest(conversationId, id));

export const groupJoin = (repo: ProfileRepository, queueId: string) =>
  get<GroupJoinRecord>(repo, K.groupJoin(queueId));
export const groupJoins = (repo: ProfileRepository) => list<GroupJoinRecord>(repo, K.groupJoins);
export const putGroupJoin = (b: Batch, r: GroupJoinRecord) => b.put(K.groupJoin(r.queue.queueId), r);
export const deleteGroupJoin = (b: Batch, queueId: string) => b.delete(K.groupJoin(queueId));
