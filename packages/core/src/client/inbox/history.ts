/** Received text (and file messages) into history: once per content id, placed at the time its sender stamped. */
import type { Mention } from "../../content/message-ref.js";
import type { Batch } from "../../store/batch.js";
import type { ConversationRecord, FileRecord, MessageRecord } from "../../store/records.js";
import { type ClientContext, orderKey, requireProfile } from "../context.js";
import { historyIdOf } from "../lookup.js";
import { mentionsIn } from "../messages/changes.js";
import { withPendingChanges } from "./changes.js";

/**
 * Where a received message goes in history: at the time its sender stamped inside the encryption,
 * so a relay that holds messages back or delivers them out of order cannot change the order shown.
 * The sender's clock is clamped to [received − MAX_DELIVERY_DELAY_MS, received]: a message is never
 * placed in the future, nor buried further back than a relay can hold a message anyway. "Received"
 * is this device's placing time (ClientContext.sealingTime: strictly increasing), so messages from
 * a sender whose clock runs ahead, clamped, keep the order they came in, even several in one
 * millisecond (with the clock itself they tied, and the random ids behind the time ordered them).
 */
export const MAX_DELIVERY_DELAY_MS = 14 * 24 * 3_600_000;
function shownAt(sentAt: number, receivedAt: number): number {
  return Math.min(receivedAt, Math.max(receivedAt - MAX_DELIVERY_DELAY_MS, sentAt));
}

/** Stores a received text; undefined when this content id is in history already. */
export async function storeReceived(
  ctx: ClientContext,
  batch: Batch,
  conversation: ConversationRecord,
  id: string,
  sentAt: number,
  text: string,
  senderIdentity: string,
  file?: FileRecord,
  refs: { quote?: string | undefined; mentions?: Mention[] | undefined } = {},
): Promise<MessageRecord | undefined> {
  // A conversation replaced by a later one with the same person stores into that one.
  const into = historyIdOf(conversation);
  if (await ctx.repo.message(into, id)) return undefined; // the same content twice
  const now = ctx.now();
  // Written on another device of ours (docs/devices.md): ours, as if sent from here.
  const fromMe = senderIdentity === (await requireProfile(ctx)).identityPublicKey;
  const record: MessageRecord = {
    id,
    conversationId: into,
    fromMe,
    senderIdentity: fromMe ? null : senderIdentity,
    text,
    sentAt,
    receivedAt: now,
    status: fromMe ? "sent" : "received",
    key: orderKey(ctx, id, shownAt(sentAt, ctx.sealingTime())),
    ...(file ? { file } : {}),
    ...(refs.quote !== undefined ? { quote: refs.quote } : {}),
  };
  const mentions = mentionsIn(text, refs.mentions);
  if (mentions) record.mentions = mentions;
  // Edits, deletions and reactions that arrived before it apply now: a deleted message is stored
  // without its text from the start.
  const final = await withPendingChanges(ctx, batch, record);
  ctx.repo.putMessage(batch, final);
  return final;
}
