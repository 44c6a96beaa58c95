/** The KeyPackage stock: each side gives its contacts KeyPackages to add it to groups with. */
import { b64 } from "../store/repository.js";
import { type ClientContext, deviceOf, requireProfile } from "./context.js";
import { requireConversation } from "./lookup.js";
import { keyPackageId } from "./mls-state.js";
import { sendContentLocked } from "./outbox.js";

/** How many KeyPackages each side gives the other when they connect (one is used per group add). */
export const KEY_PACKAGE_STOCK = 3;

/** Gives a contact KeyPackages to add us to groups with; we keep their private halves. Holds the lock. */
export async function giveKeyPackagesLocked(ctx: ClientContext, conversationId: string, count: number) {
  const conversation = await requireConversation(ctx, conversationId);
  if (!conversation.sendTo) return;
  const device = deviceOf(await requireProfile(ctx));
  const batch = ctx.repo.batch();
  const keyPackages: string[] = [];
  for (let i = 0; i < count; i++) {
    const kp = await ctx.engine.createKeyPackage(device);
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
