/**
 * `parley device revoke NAME` (docs/devices.md, "Listing and revoking"), from any device of ours:
 *
 *  - every 1:1 chat where the device has a leaf: one commit removes it (with a fresh UpdatePath, as
 *    every commit has), and our side of the chat moves to a new shared queue, announced inside the
 *    new epoch — its address to the contact (`reply-to`), its credentials to our other devices
 *    (`group-queue`, accepted in a 1:1 chat from our own identity only). The revoked device can
 *    still fetch the old queue's ciphertext, but decrypts nothing of the new epoch;
 *  - every group: the same through commit order (`revokeDevices`, allowed without being admin),
 *    after which the group moves to a new queue as after any removal.
 *
 * The revoked device still holds the identity secret key: against a device in someone else's hands
 * `parley reset` is the answer (new identity key). Revoking is for a lost or retired device.
 */
import type { Body, GroupQueue } from "../../content/index.js";
import { ParleyError } from "../../errors.js";
import { b64 } from "../../store/repository.js";
import { type ClientContext, requireProfile } from "../context.js";
import type { ClientEvent } from "../events.js";
import { attempt } from "../followups/attempt.js";
import { commitChange } from "../groups/commit-order.js";
import { pickByName, requireConversation } from "../lookup.js";
import { encryptContent, loadState } from "../mls-state.js";
import { takesPart } from "../reset/reset.js";
import { sync } from "../sync.js";
import { commitInSharedChat } from "./direct-order.js";

export interface RevokeResult {
  name: string;
  deviceKey: string;
  /** Conversations and groups the device was removed from. */
  revoked: string[];
  /** Those where it could not be (a warning event each says why): run revoke again. */
  pending: string[];
  events: ClientEvent[];
}

export async function revokeDevice(ctx: ClientContext, nameOrKey: string): Promise<RevokeResult> {
  const profile = await requireProfile(ctx);
  const known = await ctx.repo.devices();
  const entries = Object.entries(known).filter(([, d]) => d.revokedAt === undefined);
  const found = entries.find(([k]) => k === nameOrKey) ?? pickByName(entries, nameOrKey, ([, d]) => d.name);
  if (!found) throw new ParleyError("unknown_device", { name: nameOrKey });
  const [deviceKey, device] = found;
  if (deviceKey === profile.deviceKey) throw new ParleyError("revoke_self", {});
  const events = await sync(ctx);
  // From now on this device refuses whatever the revoked one signs (client/reset/received.ts);
  // the contacts and our other devices do once they process the removal.
  await ctx.lock.run(async () => {
    const resets = await ctx.repo.keyResets();
    const entry = { replacedBy: profile.identityPublicKey, at: ctx.now(), revoked: true as const };
    await ctx.repo.commit(ctx.repo.putKeyResets(ctx.repo.batch(), { ...resets, [deviceKey]: entry }));
  });
  const revoked: string[] = [];
  const pending: string[] = [];
  for (const c of (await ctx.repo.conversations()).filter(takesPart)) {
    const state = await loadState(ctx, c.groupId);
    const leaf = ctx.engine.members(state).find((m) => b64(m.deviceKey) === deviceKey);
    if (!leaf) continue;
    let done = false;
    await attempt(events, c.id, "revoke", async () => {
      if (c.kind === "direct") await revokeInDirect(ctx, c.id, deviceKey, events);
      else events.push(...(await commitChange(ctx, c.id, { revokeDevices: [deviceKey] })));
      const after = await loadState(ctx, c.groupId);
      if (ctx.engine.members(after).some((m) => b64(m.deviceKey) === deviceKey)) {
        throw new Error("the group did not confirm the removal in time");
      }
      done = true;
    });
    if (!done) pending.push(c.id);
    else if (!(c.kind === "group" && c.self)) revoked.push(c.id); // our devices' own group aside
  }
  if (pending.length === 0) {
    await ctx.lock.run(async () => {
      const all = await ctx.repo.devices();
      const entry = all[deviceKey] ?? device;
      await ctx.repo.commit(
        ctx.repo.putDevices(ctx.repo.batch(), { ...all, [deviceKey]: { ...entry, revokedAt: ctx.now() } }),
      );
    });
  }
  return { name: device.name, deviceKey, revoked, pending, events };
}

async function revokeInDirect(
  ctx: ClientContext,
  conversationId: string,
  deviceKey: string,
  events: ClientEvent[],
): Promise<void> {
  const before = await requireConversation(ctx, conversationId);
  const fresh = (await ctx.relay(before.receive.relay).createQueue({ broadcast: true })) as GroupQueue;
  // Through the shared queue's commit order (direct-order.ts): another device of ours may be
  // committing at the same time (revoking the same device: then ours comes to nothing).
  const won = await commitInSharedChat(
    ctx,
    conversationId,
    async (state) => {
      const leaf = ctx.engine.members(state).find((m) => b64(m.deviceKey) === deviceKey);
      if (!leaf) return undefined; // removed meanwhile
      return {
        changes: { remove: [leaf.leafIndex] },
        // In the new epoch: the new queue's address to the contact, its credentials to our other
        // devices (sent to the old queue, after the commit).
        after: async (next) => {
          const replyBody: Body = { type: "reply-to", replyTo: { relay: fresh.relay, sendId: fresh.sendId } };
          const replyTo = await encryptContent(ctx, next, replyBody);
          const moved = await encryptContent(ctx, replyTo.state, { type: "group-queue", queue: fresh });
          return {
            state: moved.state,
            toContact: [replyTo.message],
            toShared: [moved.message],
            receive: fresh,
          };
        },
      };
    },
    events,
  );
  if (!won) {
    await ctx
      .relay(fresh.relay)
      .deleteQueue(fresh)
      .catch(() => undefined);
  }
}
