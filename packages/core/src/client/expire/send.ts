/** Sending a control content (not kept in history) in a 1:1 chat or a group, with a local change. */
import type { Body } from "../../content/index.js";
import { pad } from "../../protocol/padding.js";
import type { Batch } from "../../store/batch.js";
import type { ConversationRecord } from "../../store/records.js";
import type { ClientContext } from "../context.js";
import { publishToGroup } from "../groups/queue.js";
import { commitWithState, encryptContent, loadState, saveState } from "../mls-state.js";
import { requireSendable } from "../outbox.js";

/**
 * Seals `body`, stores the moved ratchet with what `also` writes (in one write), then hands the
 * ciphertext to the relay: the group's queue, or the contact's.
 */
export async function sealAndDeliver(
  ctx: ClientContext,
  conversationId: string,
  body: Body,
  also: (batch: Batch, current: ConversationRecord) => void,
): Promise<void> {
  await ctx.lock.run(async () => {
    const c = await requireSendable(ctx, conversationId);
    const sealed = await encryptContent(ctx, await loadState(ctx, c.groupId), body);
    const batch = ctx.repo.batch();
    saveState(ctx, batch, c.groupId, sealed.state);
    also(batch, c);
    await commitWithState(ctx, batch, c.groupId, sealed.state);
    if (c.kind === "group") await publishToGroup(ctx, c, [sealed.message]);
    else if (c.sendTo) await ctx.relay(c.sendTo.relay).send(c.sendTo.sendId, pad(sealed.message));
  });
}
