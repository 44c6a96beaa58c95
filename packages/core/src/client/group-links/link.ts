/**
 * An admin's group invite link (messaging/group-link.ts): made, shown again, revoked. The link's
 * sealed payload lies on the relay like a contact invite; the join queue it names is this device's.
 */

import { MLS_CIPHERSUITE_IDS } from "../../crypto/provider.js";
import { ParleyError } from "../../errors.js";
import { formatGroupLink, sealGroupLinkPart } from "../../messaging/group-link.js";
import { RelayError } from "../../relay-client/errors.js";
import { deleteGroupLink, type GroupLinkRecord, groupLink, putGroupLink } from "../../store/group-links.js";
import { Keys } from "../../store/keys.js";
import { b64 } from "../../store/repository.js";
import { type ClientContext, requireProfile } from "../context.js";
import { requireAdmin } from "../groups/members.js";
import { findGroup } from "../lookup.js";
import { loadState } from "../mls-state.js";

export interface GroupLinkOptions {
  /** How long the link works, in milliseconds (at most the relay's invite lifetime, 7 days by default). */
  expiresInMs?: number;
  /** Requests wait for an admin's `approveJoinRequest` instead of being added at once. */
  approve?: boolean;
}

export interface GroupLinkView {
  group: string;
  conversationId: string;
  link: string;
  expiresAt: string | null;
  approve: boolean;
}

const view = (group: string, r: GroupLinkRecord): GroupLinkView => ({
  group,
  conversationId: r.conversationId,
  link: r.link,
  expiresAt: r.expiresAt === undefined ? null : new Date(r.expiresAt).toISOString(),
  approve: r.approve,
});

/** Makes a new link for the group; an earlier one stops working (it is revoked first). */
export async function createGroupLink(
  ctx: ClientContext,
  group: string,
  options: GroupLinkOptions = {},
): Promise<GroupLinkView> {
  const profile = await requireProfile(ctx);
  const conversation = await findGroup(ctx, group);
  const state = await loadState(ctx, conversation.groupId);
  const meta = requireAdmin(ctx, state, profile);
  if (options.expiresInMs !== undefined && !(options.expiresInMs > 0)) {
    throw new ParleyError("bad_link_expiry", {});
  }
  await revokeGroupLink(ctx, conversation.id, { quiet: true });
  const relay = ctx.relay(profile.relay);
  const queue = await relay.createQueue();
  const key = ctx.crypto.randomBytes(32);
  const expiresAt = options.expiresInMs === undefined ? undefined : ctx.now() + options.expiresInMs;
  const sealed = await sealGroupLinkPart(ctx.crypto, "link", key, {
    v: 1,
    group: meta.name,
    groupId: conversation.groupId,
    admin: profile.identityPublicKey,
    suite: MLS_CIPHERSUITE_IDS[ctx.engine.cipherSuiteOf(state)],
    sendId: queue.sendId,
    ...(expiresAt === undefined ? {} : { expiresAt }),
    approve: options.approve === true,
  });
  const inviteId = await relay.createInvite(sealed);
  const record: GroupLinkRecord = {
    conversationId: conversation.id,
    queue,
    relay: relay.baseUrl,
    inviteId,
    key: b64(key),
    link: formatGroupLink({ relay: relay.baseUrl, inviteId, key }),
    ...(expiresAt === undefined ? {} : { expiresAt }),
    approve: options.approve === true,
    createdAt: ctx.now(),
  };
  await ctx.lock.run(async () => {
    const batch = putGroupLink(ctx.repo.batch(), record);
    ctx.repo.putRoute(batch, queue.queueId, { kind: "group-link", conversationId: conversation.id });
    await ctx.repo.commit(batch);
  });
  return view(conversation.name, record);
}

/** The group's current link, if we made one. */
export async function currentGroupLink(ctx: ClientContext, group: string): Promise<GroupLinkView | null> {
  const conversation = await findGroup(ctx, group);
  const record = await groupLink(ctx.repo, conversation.id);
  return record ? view(conversation.name, record) : null;
}

/**
 * Stops the link: its payload is claimed off the relay (nobody can open the link any more) and its
 * join queue deleted (requests already sent are dropped unread). Returns whether there was one.
 */
export async function revokeGroupLink(
  ctx: ClientContext,
  group: string,
  options: { quiet?: boolean } = {},
): Promise<boolean> {
  const conversation = await findGroup(ctx, group);
  const record = await groupLink(ctx.repo, conversation.id);
  if (!record) {
    if (options.quiet) return false;
    throw new ParleyError("no_group_link", { group: conversation.name });
  }
  const relay = ctx.relay(record.relay);
  // Already gone (expired on the relay, or a revoke interrupted after this step): nothing to undo.
  await relay.claimInvite(record.inviteId).catch((e) => {
    if (!(e instanceof RelayError && e.code === "invite_gone")) throw e;
  });
  await relay.deleteQueue(record.queue).catch((e) => {
    if (!(e instanceof RelayError && e.code === "unknown_queue")) throw e;
  });
  await ctx.lock.run(async () => {
    const batch = deleteGroupLink(ctx.repo.batch(), conversation.id);
    batch.delete(Keys.route(record.queue.queueId));
    await ctx.repo.commit(batch);
  });
  return true;
}
