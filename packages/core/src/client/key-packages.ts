/**
 * The KeyPackage stock: each side gives its contacts KeyPackages to add it to groups with — a few
 * used once each, and one **last-resort** KeyPackage per cipher suite (RFC 9420 §16.8) that the
 * contact uses when the others are gone and may use again, so that adding a contact who has been
 * offline for a while always works. The owner replaces the last-resort one as soon as a Welcome
 * shows it used (and commits a fresh UpdatePath in that group, since its leaf key is the same in
 * every group joined with it); the old one's private part is kept for LAST_RESORT_GRACE_MS, then
 * deleted. Every other KeyPackage's private part is deleted the first time it is used.
 */
import { MAX_DEVICES } from "../content/group-invite.js";
import type { MlsCiphersuiteName } from "../crypto/provider.js";
import { MLS_CIPHERSUITE_IDS } from "../crypto/provider.js";
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
/** How long a replaced last-resort KeyPackage's private part is kept (the relay's default TTL). */
export const LAST_RESORT_GRACE_MS = 14 * 24 * 3_600_000;

/**
 * Gives a contact `count` KeyPackages of each of `cipherSuites` (default: every suite our engine
 * speaks) to add us to groups with; we keep their private halves. A suite for which the contact
 * holds no live last-resort KeyPackage of ours gets one too. `retire`: our last-resort KeyPackage a
 * Welcome just used, replaced now. Holds the lock.
 */
export async function giveKeyPackagesLocked(
  ctx: ClientContext,
  conversationId: string,
  count: number,
  cipherSuites: readonly MlsCiphersuiteName[] = ctx.engine.ciphersuites,
  retire?: string,
) {
  const conversation = await requireConversation(ctx, conversationId);
  if (!conversation.sendTo) return;
  const device = deviceOf(await requireProfile(ctx));
  const batch = ctx.repo.batch();
  const contactId = conversation.kind === "direct" ? conversation.contactId : undefined;
  // Our live last-resort KeyPackages for this contact, by suite id; retired ones past their grace go.
  const live = new Set<number>();
  for (const ref of await ctx.repo.ownKeyPackageRefs()) {
    const own = await ctx.repo.ownKeyPackage(ref);
    if (!own?.lastResort || own.lastResort.contactId !== contactId) continue;
    const retiredAt = ref === retire ? (own.lastResort.retiredAt ?? ctx.now()) : own.lastResort.retiredAt;
    if (retiredAt !== undefined && ctx.now() - retiredAt >= LAST_RESORT_GRACE_MS) {
      ctx.repo.deleteOwnKeyPackage(batch, ref);
    } else if (retiredAt !== undefined) {
      if (own.lastResort.retiredAt === undefined)
        ctx.repo.putOwnKeyPackage(batch, ref, { ...own, lastResort: { ...own.lastResort, retiredAt } });
    } else {
      live.add(keyPackageCipherSuiteId(unb64(own.publicMessage)) ?? -1);
    }
  }
  const keyPackages: string[] = [];
  const lastResort: string[] = [];
  for (const cipherSuite of cipherSuites) {
    const fresh = async (out: string[], mark?: { contactId: string }) => {
      const kp = await ctx.engine.createKeyPackage(device, { cipherSuite });
      const ref = await keyPackageId(ctx, kp.publicMessage);
      ctx.repo.putOwnKeyPackage(batch, ref, {
        publicMessage: b64(kp.publicMessage),
        privateKey: b64(kp.privateKey),
        ...(mark ? { lastResort: mark } : {}),
      });
      out.push(b64(kp.publicMessage));
    };
    for (let i = 0; i < count; i++) await fresh(keyPackages);
    if (contactId !== undefined && !live.has(MLS_CIPHERSUITE_IDS[cipherSuite]))
      await fresh(lastResort, { contactId });
  }
  await ctx.repo.commit(batch);
  if (keyPackages.length === 0) return;
  await sendContentLocked(ctx, conversationId, {
    type: "key-packages",
    keyPackages,
    ...(lastResort.length ? { lastResort } : {}),
  });
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
    if (resets[device]) continue;
    // A single-use one before the device's last-resort one, which stays for the next add.
    const kept = byDevice.get(device);
    if (kept && (entry[1].lastResort || !kept[1].lastResort)) continue;
    byDevice.set(device, entry);
  }
  return [...byDevice.values()].slice(0, MAX_DEVICES);
}
