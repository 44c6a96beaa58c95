/**
 * Our devices' own group (docs/devices.md, "Between our own devices"): an MLS group whose only
 * members are our devices, made by the first link, joined by every device linked after, left by a
 * revoked one (revoke and reset take its leaf out as in any group, and it moves to a new queue).
 * Never shown as a chat. In it each device says, in `device-state`, what it has read — so a chat
 * read on one device is read on the others — and, by the time it sealed that, when it was last
 * active. End to end: the relay sees group messages on one more broadcast queue.
 */
import type { DeviceStateBody } from "../../content/device-state.js";
import type { GroupConversationRecord } from "../../store/records.js";
import { type ClientContext, orderKey, randomId, requireProfile } from "../context.js";
import { createGroup } from "../groups/admin.js";
import { sealIntoOutbox } from "../outbox.js";
import { deliverOutbox } from "../outbox-delivery.js";

/** A device says it is active at most this often when it syncs (a read says it anyway). */
export const ACTIVE_EVERY_MS = 10 * 60_000;

export async function selfGroup(ctx: ClientContext): Promise<GroupConversationRecord | undefined> {
  return (await ctx.repo.conversations()).find(
    (c): c is GroupConversationRecord => c.kind === "group" && c.self === true && c.status === "active",
  );
}

/** Made before the first link (the new device is then added to it like to any group of ours). */
export async function ensureSelfGroup(ctx: ClientContext): Promise<void> {
  if (await selfGroup(ctx)) return;
  await createGroup(ctx, "devices", { self: true });
}

/**
 * Tells our other devices what this one has read (`read`, possibly none) and that it is active.
 * Nothing when we have no other device (no own group). Through the outbox, as any group message.
 */
export async function sendDeviceState(ctx: ClientContext, read: DeviceStateBody["read"]): Promise<void> {
  const own = await selfGroup(ctx);
  if (!own) return;
  const profile = await requireProfile(ctx);
  await ctx.lock.run(async () => {
    const id = randomId(ctx);
    const now = ctx.sealingTime();
    // Written with the seal: a crash cannot say it twice or never.
    const all = await ctx.repo.devices();
    const entry = all[profile.deviceKey] ?? { name: profile.deviceName ?? "", addedAt: profile.createdAt };
    const devices = { ...all, [profile.deviceKey]: { ...entry, lastActiveAt: now } };
    await sealIntoOutbox(
      ctx,
      own,
      { type: "device-state", read },
      id,
      now,
      orderKey(ctx, id, now),
      (b) => ctx.repo.putDevices(b, devices),
      true,
    );
  });
  await deliverOutbox(ctx, { conversationId: own.id, now: true });
}

/** After a sync: says this device is active, if it has not said so for a while. */
export async function announceActive(ctx: ClientContext): Promise<void> {
  const profile = await requireProfile(ctx);
  const mine = (await ctx.repo.devices())[profile.deviceKey];
  if (ctx.now() - (mine?.lastActiveAt ?? 0) < ACTIVE_EVERY_MS) return;
  await sendDeviceState(ctx, []);
}
