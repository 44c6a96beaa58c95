/**
 * Resetting our keys after a device was compromised (issue 13), from this device, in one step:
 *
 *  1. everything waiting on the relay is read first (what contacts sent before stays in history);
 *  2. a new identity key and a new device key certified by it replace the profile's;
 *  3. in every conversation and group we are in, one commit gives our leaf the new device (new
 *     signature key, new credential) with a fresh UpdatePath: the next epoch's secrets come from
 *     path secrets encrypted to the other members only, so a copy of our old state cannot follow;
 *  4. 1:1: a new receive queue, its address sent inside the new epoch (`reply-to`), and the old
 *     queue deleted from the relay — the copy holds its credentials, and now they name nothing.
 *     Groups where we are an admin: our old identity key is replaced by the new one in the admins
 *     (same commit), and the group moves to a new queue announced inside the new epoch
 *     (`group-queue`). Groups where we are not: the shared queue stays; the copy can read its
 *     ciphertext (not decrypt it) and cannot delete from it (a broadcast queue);
 *     Our other devices' leaves are removed in the same commit (docs/devices.md: they may be the
 *     attacker's; link them again afterwards), so they read nothing new either.
 *  5. our KeyPackages are replaced: the private halves we kept are deleted (the copy has them; a
 *     contact's client drops the old ones when it sees the reset), every contact gets fresh ones,
 *     every group our name again (member names are by identity key), and pending invite links are
 *     dropped, their queues deleted.
 *
 * Contacts see "safety number changed — reset their keys" (reset/received.ts). A conversation that
 * could not be reached stays on the old keys and is reported; the profile says so (`resetPending`),
 * and running reset again carries the rest over to the same new keys (no second new identity).
 */

import type { Body, GroupQueue } from "../../content/index.js";
import { createIdentity } from "../../identity/identity-key.js";
import { decodeGroupMetadata, encodeGroupMetadata } from "../../messaging/group-metadata.js";
import { pad } from "../../protocol/padding.js";
import type { QueueCredentials } from "../../relay-client/signing.js";
import type { ConversationRecord, ProfileRecord } from "../../store/records.js";
import { b64 } from "../../store/repository.js";
import { type ClientContext, deviceOf, requireProfile } from "../context.js";
import type { ClientEvent } from "../events.js";
import { attempt } from "../followups/attempt.js";
import { runFollowups } from "../followups/run.js";
import type { Followup } from "../followups/types.js";
import { moveGroupQueue, publishToGroup } from "../groups/queue.js";
import { KEY_PACKAGE_STOCK } from "../key-packages.js";
import { requireConversation } from "../lookup.js";
import { commitWithState, encryptContent, loadState, saveState } from "../mls-state.js";
import { sync } from "../sync.js";

export interface ResetResult {
  profile: ProfileRecord;
  /** Conversations and groups now on the new keys. */
  reset: string[];
  /** Those that could not be (a warning event each says why): run reset again. */
  pending: string[];
  events: ClientEvent[];
}

export async function resetKeys(ctx: ClientContext): Promise<ResetResult> {
  const events: ClientEvent[] = [];
  // What contacts sent before now is read and stored with the old keys, before they go.
  events.push(...(await sync(ctx)));
  const { profile, oldIdentity, resumed } = await replaceProfileKeys(ctx);
  const device = deviceOf(profile);
  const reset: string[] = [];
  const pending: string[] = [];
  const oldQueues: QueueCredentials[] = [];
  for (const c of await ctx.repo.conversations()) {
    if (!takesPart(c)) continue;
    let done = false;
    await attempt(events, c.id, "reset", async () => {
      const old = await ctx.lock.run(() => resetConversationLocked(ctx, c.id, device, oldIdentity));
      if (old) oldQueues.push(old);
      done = true;
    });
    (done ? reset : pending).push(c.id);
  }
  const finished = await ctx.lock.run(async () => {
    const current = await requireProfile(ctx);
    const { resetPending: _done, ...rest } = current;
    const next: ProfileRecord = pending.length > 0 ? { ...rest, resetPending: true } : rest;
    await ctx.repo.commit(ctx.repo.putProfile(ctx.repo.batch(), next));
    return next;
  });
  // The copy holds the old queues' credentials: they are deleted, so they name nothing any more.
  for (const q of oldQueues)
    await ctx
      .relay(q.relay)
      .deleteQueue(q)
      .catch(() => undefined);
  if (!resumed) await dropInvites(ctx);
  const followups: Followup[] = [];
  for (const id of reset) {
    const c = await requireConversation(ctx, id);
    if (c.kind === "direct")
      followups.push({ kind: "key-packages", conversationId: id, count: KEY_PACKAGE_STOCK });
    else followups.push({ kind: "group-profile", conversationId: id });
  }
  events.push(...(await runFollowups(ctx, followups)));
  return { profile: finished, reset, pending, events };
}

/** A conversation we still take part in (an active group; a 1:1 we can write to). */
export function takesPart(c: ConversationRecord): boolean {
  if (c.kind === "group") return c.status === "active";
  return c.supersededBy === undefined && c.sendTo !== null;
}

/**
 * The new keys in the profile, before any commit leaves (a crash resumes with them). Our own
 * KeyPackages' private halves go (the copy has them too). `oldIdentity`: the identity key being
 * replaced in group admin lists.
 */
async function replaceProfileKeys(
  ctx: ClientContext,
): Promise<{ profile: ProfileRecord; oldIdentity: string; resumed: boolean }> {
  return ctx.lock.run(async () => {
    const p = await requireProfile(ctx);
    if (p.resetPending) return { profile: p, oldIdentity: p.previousIdentityKey ?? "", resumed: true };
    const { identity, device } = await createIdentity(ctx.crypto);
    const profile: ProfileRecord = {
      ...p,
      identityPublicKey: b64(identity.publicKey),
      identitySecretKey: b64(identity.secretKey),
      deviceKey: b64(device.deviceKey),
      deviceSecretKey: b64(device.deviceSecretKey),
      certificate: b64(device.certificate),
      resetPending: true,
      previousIdentityKey: p.identityPublicKey,
      resetAt: ctx.now(),
    };
    const batch = ctx.repo.putProfile(ctx.repo.batch(), profile);
    for (const ref of await ctx.repo.ownKeyPackageRefs()) ctx.repo.deleteOwnKeyPackage(batch, ref);
    await ctx.repo.commit(batch);
    return { profile, oldIdentity: p.identityPublicKey, resumed: false };
  });
}

/**
 * One conversation onto the new device: the commit, then (1:1) a new queue or (a group we
 * administer) a new group queue, announced inside the new epoch. Returns the old 1:1 queue, to be
 * deleted once the new one is in use. A conversation already on the new device is left as it is.
 */
async function resetConversationLocked(
  ctx: ClientContext,
  conversationId: string,
  device: ReturnType<typeof deviceOf>,
  oldIdentity: string,
): Promise<QueueCredentials | undefined> {
  const c = await requireConversation(ctx, conversationId);
  const state = await loadState(ctx, c.groupId);
  const own = ctx.engine.members(state).find((m) => m.leafIndex === ctx.engine.ownLeafIndex(state));
  if (own && b64(own.deviceKey) === b64(device.deviceKey)) return undefined;
  const meta = c.kind === "group" ? decodeGroupMetadata(ctx.engine.metadata(state)) : undefined;
  const admin = meta?.admins.includes(oldIdentity) === true;
  const admins = meta?.admins.map((a) => (a === oldIdentity ? b64(device.identityKey) : a));
  // Our other devices go in the same commit (they may be the attacker's): link them again after.
  const others = ctx.engine
    .members(state)
    .filter(
      (m) =>
        m.leafIndex !== own?.leafIndex && [oldIdentity, b64(device.identityKey)].includes(b64(m.identityKey)),
    )
    .map((m) => m.leafIndex);
  const committed = await ctx.engine.commit(state, {
    device,
    ...(others.length > 0 ? { remove: others } : {}),
    ...(meta && admin ? { metadata: encodeGroupMetadata({ ...meta, admins: admins! }) } : {}),
  });
  if (c.kind === "group") {
    if (!admin) {
      const batch = ctx.repo.batch();
      saveState(ctx, batch, c.groupId, committed.state);
      await commitWithState(ctx, batch, c.groupId, committed.state);
      await publishToGroup(ctx, c, committed.commits);
      return undefined;
    }
    const queue = (await ctx.relay(c.receive.relay).createQueue({ broadcast: true })) as GroupQueue;
    const moved = await encryptContent(ctx, committed.state, { type: "group-queue", queue });
    const batch = ctx.repo.batch();
    ctx.repo.putConversation(batch, { ...moveGroupQueue(c, queue), admins: admins! });
    ctx.repo.putRoute(batch, queue.queueId, { kind: "conversation", conversationId: c.id });
    saveState(ctx, batch, c.groupId, moved.state);
    await commitWithState(ctx, batch, c.groupId, moved.state);
    await publishToGroup(ctx, c, [...committed.commits, moved.message]);
    return undefined;
  }
  const fresh = await ctx.relay(c.receive.relay).createQueue();
  const body: Body = { type: "reply-to", replyTo: { relay: fresh.relay, sendId: fresh.sendId } };
  const replyTo = await encryptContent(ctx, committed.state, body);
  const batch = ctx.repo.batch();
  ctx.repo.putConversation(batch, { ...c, receive: fresh });
  ctx.repo.putRoute(batch, fresh.queueId, { kind: "conversation", conversationId: c.id });
  saveState(ctx, batch, c.groupId, replyTo.state);
  await commitWithState(ctx, batch, c.groupId, replyTo.state);
  const to = c.sendTo!;
  for (const m of [...committed.commits, replyTo.message]) await ctx.relay(to.relay).send(to.sendId, pad(m));
  return c.receive;
}

/** Pending invite links were made with the old keys: dropped here, their queues deleted. */
async function dropInvites(ctx: ClientContext): Promise<void> {
  const invites = await ctx.lock.run(async () => {
    const all = await ctx.repo.invites();
    const batch = ctx.repo.batch();
    for (const i of all) ctx.repo.deleteInvite(batch, i.queue.queueId);
    await ctx.repo.commit(batch);
    return all;
  });
  for (const i of invites)
    await ctx
      .relay(i.queue.relay)
      .deleteQueue(i.queue)
      .catch(() => undefined);
}
