/**
 * Read receipts and typing indicators, sent: `read` and `typing` content (docs/03-content.md). Each
 * goes only where the person allows it for that conversation (conversations.ts, `sends`): on by
 * default in 1:1 chats (that is, per person), off by default in groups.
 *
 * A read receipt goes through the outbox like a message (it must not be lost offline); a typing
 * indicator is sealed and sent at once or not at all: a late one would say something untrue.
 */

import type { DeviceStateBody } from "../content/device-state.js";
import { MAX_RECEIPT_IDS } from "../content/receipt.js";
import { toHex } from "../encoding/bytes.js";
import { pad } from "../protocol/padding.js";
import type { ConversationRecord } from "../store/records.js";
import { type ClientContext, orderKey, randomId, requireProfile } from "./context.js";
import { sends } from "./conversations.js";
import { sendDeviceState } from "./devices/self-group.js";
import { findConversation, historyIdOf, requireConversation } from "./lookup.js";
import { commitWithState, encryptContent, loadState, saveState } from "./mls-state.js";
import { requireSendable, sealIntoOutbox } from "./outbox.js";
import { deliverOutbox } from "./outbox-delivery.js";

/**
 * Marks the conversation read up to its newest message. The messages of others that arrived since
 * the last call (at most MAX_RECEIPT_IDS, the newest) are named in one `read` receipt, if this
 * conversation sends them and can send now; either way they count as read from here on.
 */
export async function markRead(
  ctx: ClientContext,
  nameOrId: string,
): Promise<{ ids: string[]; sent: boolean }> {
  await requireProfile(ctx);
  const id = historyIdOf(await findConversation(ctx, nameOrId));
  let upTo: DeviceStateBody["read"][number] | undefined;
  const outcome = await ctx.lock.run(async () => {
    const conversation = await requireConversation(ctx, id);
    const newest = await ctx.repo.messages(id, MAX_RECEIPT_IDS);
    const last = newest[newest.length - 1];
    if (!last || (conversation.readUpTo !== undefined && last.key <= conversation.readUpTo))
      return { ids: [], sent: false };
    upTo = { conversationId: id, messageId: last.id, upTo: last.key };
    const ids = newest
      .filter((m) => !m.fromMe && m.deleted === undefined)
      .filter((m) => conversation.readUpTo === undefined || m.key > conversation.readUpTo)
      .map((m) => m.id);
    const next: ConversationRecord = { ...conversation, readUpTo: last.key };
    const send = ids.length > 0 && sends(conversation, "readReceipts") && (await canSend(ctx, id));
    if (!send) {
      await ctx.repo.commit(ctx.repo.putConversation(ctx.repo.batch(), next));
      return { ids, sent: false };
    }
    const receiptId = randomId(ctx);
    const at = ctx.sealingTime();
    await sealIntoOutbox(
      ctx,
      conversation,
      { type: "read", ids },
      receiptId,
      at,
      orderKey(ctx, receiptId, at),
      (b) => ctx.repo.putConversation(b, next),
      true,
    );
    return { ids, sent: true };
  });
  if (outcome.sent) await deliverOutbox(ctx, { conversationId: id, now: true });
  // Read here, read on our other devices too (devices/self-group.ts).
  if (upTo !== undefined) await sendDeviceState(ctx, [upTo]);
  return outcome;
}

/** Says we are typing (or stopped), now, if this conversation sends typing indicators. */
export async function sendTyping(ctx: ClientContext, nameOrId: string, typing: boolean): Promise<boolean> {
  await requireProfile(ctx);
  const id = historyIdOf(await findConversation(ctx, nameOrId));
  const sealed = await ctx.lock.run(async () => {
    const conversation = await requireConversation(ctx, id);
    if (!sends(conversation, "typingIndicators") || !(await canSend(ctx, id))) return undefined;
    const state = await loadState(ctx, conversation.groupId);
    const out = await encryptContent(ctx, state, { type: "typing", typing });
    const batch = ctx.repo.batch();
    saveState(ctx, batch, conversation.groupId, out.state);
    // A group echoes our own message back to us: skipped as ours, not refused by MLS.
    ctx.repo.markPayloadSeen(batch, conversation.id, toHex(await ctx.crypto.sha256(out.message)));
    await commitWithState(ctx, batch, conversation.groupId, out.state);
    return { to: conversation.sendTo!, message: out.message };
  });
  if (!sealed) return false;
  await ctx.relay(sealed.to.relay).send(sealed.to.sendId, pad(sealed.message));
  return true;
}

const canSend = (ctx: ClientContext, id: string): Promise<boolean> =>
  requireSendable(ctx, id).then(
    () => true,
    () => false,
  );
