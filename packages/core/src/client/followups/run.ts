/** The follow-up registry: a kind → its runner, in the order kinds run. */
import type { ClientContext } from "../context.js";
import type { ClientEvent } from "../events.js";
import { groupLinkAddFollowup } from "./group-link-add.js";
import { groupOrderFollowup } from "./group-order.js";
import { groupProfileFollowup } from "./group-profile.js";
import { groupReaddFollowup } from "./group-readd.js";
import { keyPackagesFollowup } from "./key-packages.js";
import { profilePhotoFollowup } from "./profile-photo.js";
import { receiptFollowup } from "./receipt.js";
import { removeLeaverFollowup } from "./remove-leaver.js";
import { retryHeldFollowup } from "./retry-held.js";
import type { Followup, FollowupName, FollowupOf, FollowupRunner } from "./types.js";

/** Every kind must have a runner (the compiler checks); receipts go first, as soon as possible. */
const registry: { [K in FollowupName]: FollowupRunner<K> } = {
  receipt: receiptFollowup,
  "retry-held": retryHeldFollowup,
  "key-packages": keyPackagesFollowup,
  "group-profile": groupProfileFollowup,
  "remove-leaver": removeLeaverFollowup,
  "group-order": groupOrderFollowup,
  "group-link-add": groupLinkAddFollowup,
  "group-readd": groupReaddFollowup,
  "profile-photo": profilePhotoFollowup,
};

/** Runs follow-ups after their deliveries are stored; returns the events they caused. */
export async function runFollowups(ctx: ClientContext, followups: Followup[]): Promise<ClientEvent[]> {
  const events: ClientEvent[] = [];
  for (const kind of Object.keys(registry) as FollowupName[]) {
    const items = followups.filter((f): f is FollowupOf<typeof kind> => f.kind === kind);
    if (items.length) events.push(...(await (registry[kind] as FollowupRunner<typeof kind>).run(ctx, items)));
  }
  return events;
}
