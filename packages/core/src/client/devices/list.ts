/** `parley devices`: our devices, from the leaves of our identity in our conversations and their names. */
import { b64 } from "../../store/repository.js";
import { type ClientContext, requireProfile } from "../context.js";
import { loadState } from "../mls-state.js";
import { takesPart } from "../reset/reset.js";

export interface DeviceView {
  /** The name it was linked under ("" for a device from before names: the first one). */
  name: string;
  deviceKey: string;
  /** This device. */
  current: boolean;
  /** When it was linked (ISO 8601), if this device knows. */
  added: string | null;
  /** When it was revoked (ISO 8601), null while it is one of ours. */
  revoked: string | null;
  /** In how many of our conversations and groups it has a leaf now (our devices' own group aside). */
  conversations: number;
  /** When it last said it was active (ISO 8601; its own signed time, end to end), if it has. */
  lastActive: string | null;
}

export async function listDevices(ctx: ClientContext): Promise<DeviceView[]> {
  const profile = await requireProfile(ctx);
  const known = await ctx.repo.devices();
  const leaves = new Map<string, number>();
  for (const c of (await ctx.repo.conversations()).filter(takesPart)) {
    if (c.kind === "group" && c.self) continue;
    const state = await loadState(ctx, c.groupId);
    for (const m of ctx.engine.members(state)) {
      if (b64(m.identityKey) !== profile.identityPublicKey) continue;
      const k = b64(m.deviceKey);
      leaves.set(k, (leaves.get(k) ?? 0) + 1);
    }
  }
  const keys = new Set([profile.deviceKey, ...Object.keys(known), ...leaves.keys()]);
  const iso = (t: number | undefined) => (t === undefined ? null : new Date(t).toISOString());
  return [...keys].map((deviceKey) => {
    const k = known[deviceKey];
    const current = deviceKey === profile.deviceKey;
    return {
      name: k?.name ?? (current ? (profile.deviceName ?? "") : ""),
      deviceKey,
      current,
      added: iso(k?.addedAt ?? (current ? profile.createdAt : undefined)),
      revoked: iso(k?.revokedAt),
      conversations: leaves.get(deviceKey) ?? 0,
      lastActive: current ? iso(ctx.now()) : iso(k?.lastActiveAt),
    };
  });
}
