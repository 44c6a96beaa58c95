/** The KeyPackage stock: each side gives its contacts KeyPackages to add it to groups with. */

import { MAX_DEVICES } from "../content/group-invite.js";
import type { MlsCiphersuiteName } from "../crypto/provider.js";
import { keyPackageCipherSuiteId } from "../mls/engine.js";
import type { ContactKeyPackage, ContactRecord } from "../store/records.js";
import { b64, unb64 } from "../store/repository.js";
import { type ClientContext, deviceOf, requireProfile } from "./context.js";
import { requireConversation } from "./lookup.js";
import { keyPackageId } from "./mls-state.js";
import { sendContentLocked } from "./outbox.js";

/**
 * How many KeyPackages of each cipher suite each side gives the other when they connect (one is used
 * per group add; a group's suite is its creator's choice, so a contact needs ours of that suite:
 * suite 1, and X-Wing for post-quantum groups).
 */
export const KEY_PACKAGE_STOCK = 3;

/**
 * Gives a contact `count` KeyPackages of each of `cipherSuites` (default: every suite our engine
 * speaks) to add us to groups with; we keep their private halves. Holds the lock.
 */
export async function giveKeyPackagesLocked(
  ctx: ClientContext,
  conversationId: string,
  count: number,
  cipherSuites: readonly MlsCiphersuiteName[] = ctx.engine.ciphersuites,
) {
  const conversation = await requireConversation(ctx, conversationId);
  if (!conversation.sendTo) return;
  const device = deviceOf(await requireProfile(ctx));
  const batch = ctx.repo.batch();
  const keyPackages: string[] = [];
  for (const cipherSuite of cipherSuites)
    for (let i = 0; i < count; i++) {
      const kp = await ctx.engine.createKeyPackage(device, { cipherSuite });
      const ref = await keyPackageId(ctx, kp.publicMessage);
      ctx.repo.putOwnKeyPackage(batch, ref, {
        publicMessage: b64(kp.publicMessage),
        privateKey: b64(kp.privateKey),
      });
      keyPackages.push(b64(kp.publicMessage));
    }
  await ctx.repo.commit(batch);
  await sendContentLocked(ctx, conversationId, { type: "key-packages", keyPackages });
}

/**
 * What adding `contact` to a group of cipher suite `suite` takes from their stock: one KeyPackage
 * for each of their devices (each device gives its own: docs/devices.md), of their identity as we
 * know it now, none of a device they revoked or replaced. Empty: they gave none of that suite.
 */
export async function keyPackagesOfEachDevice(
  ctx: ClientContext,
  contact: ContactRecord,
  suite: number,
): Promise<[string, ContactKeyPackage][]> {
  const resets = await ctx.repo.keyResets();
  const byDevice = new Map<string, [string, ContactKeyPackage]>();
  for (const entry of await ctx.repo.theirKeyPackages(contact.id)) {
    const kp = unb64(entry[1].keyPackage);
    if (keyPackageCipherSuiteId(kp) !== suite) continue;
    const member = await ctx.engine.inspectKeyPackage(kp).catch(() => undefined);
    if (!member || b64(member.identityKey) !== contact.identityKey) continue;
    const device = b64(member.deviceKey);
    if (resets[device] || byDevice.has(device)) continue;
    byDevice.set(device, entry);
  }
  return [...byDevice.values()].slice(0, MAX_DEVICES);
}
