/**
 * Join requests through a group link, on the admin's side: read from the link's join queue
 * (inbox/receive.ts routes them here), opened with the link's key, checked, and kept until they
 * are answered — at once by a follow-up when the link needs no approval, else when an admin
 * approves. Adding is the ordinary group add (one commit, commit-order.ts); only the Welcome's way
 * differs (answer.ts).
 */

import { MLS_CIPHERSUITE_IDS } from "../../crypto/provider.js";
import { ParleyError } from "../../errors.js";
import { openGroupLinkPart } from "../../messaging/group-link.js";
import { decodeGroupMetadata, isAdmin } from "../../messaging/group-metadata.js";
import { keyPackageCipherSuiteId } from "../../mls/engine.js";
import type { Batch } from "../../store/batch.js";
import {
  deleteJoinRequest,
  groupLink,
  type JoinRequestRecord,
  joinRequests,
  putJoinRequest,
} from "../../store/group-links.js";
import { b64, unb64 } from "../../store/repository.js";
import { type ClientContext, randomId, requireProfile } from "../context.js";
import type { ClientEvent } from "../events.js";
import { commitChange } from "../groups/commit-order.js";
import { requireAdmin } from "../groups/members.js";
import { reject } from "../inbox/rejection.js";
import type { Processed } from "../inbox/types.js";
import { findGroup, requireGroupConversation } from "../lookup.js";
import { loadState } from "../mls-state.js";
import type { PersonRef } from "../views.js";

export interface JoinRequestView {
  id: string;
  group: string;
  conversationId: string;
  /** The name they gave: their own words, not checked by anyone. */
  name: string;
  identityKey: string;
  at: string;
}

const view = (group: string, r: JoinRequestRecord): JoinRequestView => ({
  id: r.id,
  group,
  conversationId: r.conversationId,
  name: r.name,
  identityKey: r.identityKey,
  at: new Date(r.at).toISOString(),
});

/** Inbox: one delivery on a link's join queue. */
export async function receiveJoinRequest(
  ctx: ClientContext,
  batch: Batch,
  conversationId: string,
  payload: Uint8Array,
): Promise<Processed> {
  const link = await groupLink(ctx.repo, conversationId);
  if (!link) return reject({ reason: "unknown_queue" });
  const conversation = await requireGroupConversation(ctx, conversationId);
  // We left or were removed: nobody can be added by us any more.
  if (conversation.status !== "active") return reject({ reason: "unknown_queue" });
  if (link.expiresAt !== undefined && link.expiresAt <= ctx.now()) {
    return reject({ reason: "group_link_expired", conversationId });
  }
  const request = await openGroupLinkPart(ctx.crypto, "request", unb64(link.key), payload);
  const keyPackage = unb64(request.keyPackage);
  const joiner = await ctx.engine
    .inspectKeyPackage(keyPackage)
    .catch((e: Error) => reject({ reason: "mls", detail: `join request's KeyPackage: ${e.message}` }));
  const state = await loadState(ctx, conversation.groupId);
  // No longer an admin (demoted since the link was shared): not ours to answer.
  const profile = await requireProfile(ctx);
  if (!isAdmin(decodeGroupMetadata(ctx.engine.metadata(state)), profile.identityPublicKey)) {
    return { events: [], followups: [] };
  }
  if (keyPackageCipherSuiteId(keyPackage) !== MLS_CIPHERSUITE_IDS[ctx.engine.cipherSuiteOf(state)]) {
    return reject({
      reason: "malformed",
      detail: "join request's KeyPackage is not of the group's cipher suite",
    });
  }
  const identityKey = b64(joiner.identityKey);
  if (ctx.engine.members(state).some((m) => b64(m.identityKey) === identityKey)) {
    return { events: [], followups: [] }; // asked twice, added already
  }
  // One request per person: a second replaces the first (a newer KeyPackage, a new answer queue).
  for (const old of await joinRequests(ctx.repo, conversationId)) {
    if (old.identityKey === identityKey) deleteJoinRequest(batch, conversationId, old.id);
  }
  const record: JoinRequestRecord = {
    id: randomId(ctx, 6),
    conversationId,
    name: request.name,
    identityKey,
    keyPackage: request.keyPackage,
    reply: request.reply,
    replyKey: request.replyKey,
    at: ctx.now(),
  };
  putJoinRequest(batch, record);
  if (!link.approve) {
    return { events: [], followups: [{ kind: "group-link-add", conversationId, requestId: record.id }] };
  }
  return {
    events: [
      {
        type: "join-request",
        conversationId,
        group: conversation.name,
        request: view(conversation.name, record),
      },
    ],
    followups: [],
  };
}

/**
 * The requests waiting. Those of people in the group by now (another admin answered them) are
 * not shown, and are forgotten.
 */
export async function listJoinRequests(ctx: ClientContext, group: string): Promise<JoinRequestView[]> {
  const conversation = await findGroup(ctx, group);
  const waiting = await ctx.lock.run(() => withoutMembersLocked(ctx, conversation.id));
  return waiting.map((r) => view(conversation.name, r));
}

/** Under the lock: forgets the requests of people who are members now; returns the rest. */
async function withoutMembersLocked(ctx: ClientContext, conversationId: string) {
  const conversation = await requireGroupConversation(ctx, conversationId);
  const all = await joinRequests(ctx.repo, conversationId);
  if (all.length === 0 || conversation.status !== "active") return all;
  const state = await loadState(ctx, conversation.groupId);
  const members = new Set(ctx.engine.members(state).map((m) => b64(m.identityKey)));
  const batch = ctx.repo.batch();
  for (const r of all) if (members.has(r.identityKey)) deleteJoinRequest(batch, conversationId, r.id);
  if (batch.writes.length) await ctx.repo.commit(batch);
  return all.filter((r) => !members.has(r.identityKey));
}

/** The request `nameOrId` names: its id, or the name it gave (refused when several gave it). */
async function findRequest(ctx: ClientContext, conversationId: string, group: string, nameOrId: string) {
  const all = await joinRequests(ctx.repo, conversationId);
  const byId = all.find((r) => r.id === nameOrId);
  if (byId) return byId;
  const byName = all.filter((r) => r.name === nameOrId);
  if (byName.length > 1) throw new ParleyError("ambiguous_join_request", { group, name: nameOrId });
  if (!byName[0]) throw new ParleyError("unknown_join_request", { group, name: nameOrId });
  return byName[0];
}

/** Adds whoever asked (one commit, like `addToGroup`); their Welcome goes once it has won. */
export async function approveJoinRequest(
  ctx: ClientContext,
  group: string,
  nameOrId: string,
): Promise<{ added: PersonRef; events: ClientEvent[] }> {
  const conversation = await findGroup(ctx, group);
  const request = await findRequest(ctx, conversation.id, conversation.name, nameOrId);
  const result = await addRequest(ctx, conversation.id, request);
  if (!result) throw new ParleyError("already_member", { contact: request.name, group: conversation.name });
  return result;
}

/** Turns a request down: it is forgotten, the person is told nothing. */
export async function declineJoinRequest(ctx: ClientContext, group: string, nameOrId: string): Promise<void> {
  const conversation = await findGroup(ctx, group);
  const request = await findRequest(ctx, conversation.id, conversation.name, nameOrId);
  await ctx.lock.run(() => ctx.repo.commit(deleteJoinRequest(ctx.repo.batch(), conversation.id, request.id)));
}

/**
 * Adds whoever asked. Undefined, and the request forgotten, when they are in the group already:
 * another admin (or another device of ours) answered the same request first (every admin's devices
 * read a shared link's requests). Two admins answering at once make two commits; the one that
 * loses drops the join when it is redone (groups/commit-plan.ts): nobody is added twice.
 */
export async function addRequest(
  ctx: ClientContext,
  conversationId: string,
  request: JoinRequestRecord,
): Promise<{ added: PersonRef; events: ClientEvent[] } | undefined> {
  const profile = await requireProfile(ctx);
  const conversation = await requireGroupConversation(ctx, conversationId);
  requireAdmin(ctx, await loadState(ctx, conversation.groupId), profile);
  const waiting = await ctx.lock.run(() => withoutMembersLocked(ctx, conversationId));
  if (!waiting.some((r) => r.id === request.id)) return undefined;
  const events = await commitChange(ctx, conversationId, {
    join: [
      {
        identityKey: request.identityKey,
        keyPackage: request.keyPackage,
        reply: request.reply,
        replyKey: request.replyKey,
        name: request.name,
      },
    ],
  });
  await ctx.lock.run(async () => {
    const batch = deleteJoinRequest(ctx.repo.batch(), conversationId, request.id);
    // Members who are not our contacts are known by the name they give themselves in the group;
    // until their own `profile` message says it, the name they gave in the request.
    await ctx.repo.putMemberName(batch, conversationId, request.identityKey, request.name);
    await ctx.repo.commit(batch);
  });
  const added: PersonRef = { identityKey: request.identityKey, name: request.name, relation: "member" };
  events.push({
    type: "group",
    conversationId,
    name: conversation.name,
    change: "members",
    added: [added],
    removed: [],
    left: [],
  });
  return { added, events };
}
