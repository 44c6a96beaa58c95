/**
 * An admin's group invite link (messaging/group-link.ts): made, shown again, revoked. The link's
 * sealed payload lies on the relay like a contact invite. Its join queue is a broadcast queue,
 * and the link goes to the group in a `group-link` message: every admin's devices keep it and read
 * the requests (inbox/handlers/group-link.ts), so any admin online can answer them, and any admin
 * can revoke it.
 */

import type { SharedGroupLink } from "../../content/group-link.js";
import type { GroupQueue } from "../../content/index.js";
import { MLS_CIPHERSUITE_IDS } from "../../crypto/provider.js";
import { ParleyError } from "../../errors.js";
import { formatGroupLink, sealGroupLinkPart } from "../../messaging/group-link.js";
import { RelayError } from "../../relay-client/errors.js";
import type { Batch } from "../../store/batch.js";
import { deleteGroupLink, type GroupLinkRecord, groupLink, putGroupLink } from "../../store/group-links.js";
import { Keys } from "../../store/keys.js";
import { b64 } from "../../store/repository.js";
import { type ClientContext, orderKey, randomId, requireProfile } from "../context.js";
import { requireAdmin } from "../groups/members.js";
import { findGroup } from "../lookup.js";
import { loadState } from "../mls-state.js";
import { requireSendable, sealIntoOutbox } from "../outbox.js";
import { deliverOutbox } from "../outbox-delivery.js";

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
  await revokeGroupLink(ctx, conversation.id, { quiet: true, unshared: true });
  const relay = ctx.relay(profile.relay);
  const queue = (await relay.createQueue({ broadcast: true })) as GroupQueue;
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
  const shared: SharedGroupLink = {
    queue,
    relay: record.relay,
    inviteId,
    key: record.key,
    link: record.link,
    ...(expiresAt === undefined ? {} : { expiresAt }),
    approve: record.approve,
  };
  await shareLink(ctx, conversation.id, shared, (batch) => {
    putGroupLink(batch, record);
    ctx.repo.putRoute(batch, queue.queueId, { kind: "group-link", conversationId: conversation.id });
  });
  return view(conversation.name, record);
}

/**
 * Under the lock: `also`'s writes and a `group-link` message telling the group's admins of the
 * link (null: that it was revoked) are stored in one write; then the outbox sends it.
 */
async function shareLink(
  ctx: ClientContext,
  conversationId: string,
  link: SharedGroupLink | null,
  also: (batch: Batch) => void,
): Promise<void> {
  await ctx.lock.run(async () => {
    const conversation = await requireSendable(ctx, conversationId);
    const id = randomId(ctx);
    const at = ctx.sealingTime();
    // Quiet: no "sent" news for a message nobody wrote.
    await sealIntoOutbox(
      ctx,
      conversation,
      { type: "group-link", link },
      id,
      at,
      orderKey(ctx, id, at),
      also,
      true,
    );
  });
  await deliverOutbox(ctx, { conversationId, now: true });
}

/** The group's current link, if we made one. */
export async function currentGroupLink(ctx: ClientContext, group: string): Promise<GroupLinkView | null> {
  const conversation = await findGroup(ctx, group);
  const record = await groupLink(ctx.repo, conversation.id);
  return record ? view(conversation.name, record) : null;
}

/**
 * Stops the link: its payload is claimed off the relay (nobody can open the link any more), and
 * its join queue is no longer read (requests already sent are dropped unread): the group's other
 * admins are told to forget it. Returns whether there was one.
 */
export async function revokeGroupLink(
  ctx: ClientContext,
  group: string,
  /** `unshared`: the group is not told (a new link follows at once, which replaces it). */
  options: { quiet?: boolean; unshared?: boolean } = {},
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
  // A shared link's join queue is a broadcast queue, which the relay does not delete (it expires
  // unused): nobody reads it any more once every admin device has forgotten the link.
  if (record.queue.broadcast !== true) {
    await relay.deleteQueue(record.queue).catch((e) => {
      if (!(e instanceof RelayError && e.code === "unknown_queue")) throw e;
    });
  }
  const forget = (batch: Batch) => {
    deleteGroupLink(batch, conversation.id);
    batch.delete(Keys.route(record.queue.queueId));
  };
  // A link made before links were shared (a unicast join queue) was never told to anyone.
  if (options.unshared || record.queue.broadcast !== true || conversation.status !== "active") {
    await ctx.lock.run(async () => {
      const batch = ctx.repo.batch();
      forget(batch);
      await ctx.repo.commit(batch);
    });
  } else {
    await shareLink(ctx, conversation.id, null, forget);
  }
  return true;
}
