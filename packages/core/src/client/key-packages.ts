/** The KeyPackage stock: each side gives its contacts KeyPackages to add it to groups with. */
import type { MlsCiphersuiteName } from "../crypto/provider.js";
import { b64 } from "../store/repository.js";
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
