/**
 * A received edit, deletion or reaction: applied to its message if this device has it, else kept
 * until the message arrives (the relay may reorder them; a message may wait for its MLS epoch).
 * See messages/changes.ts for the rules.
 */
import type { Batch } from "../../store/batch.js";
import type { ConversationRecord, MessageChange, MessageRecord } from "../../store/records.js";
import { type ClientContext, requireProfile } from "../context.js";
import { historyIdOf, messageView, person } from "../lookup.js";
import { applyChange, changeName } from "../messages/changes.js";
import { MAX_DELIVERY_DELAY_MS } from "./history.js";
import { reject } from "./rejection.js";
import { type ContentMeta, nothing, type Processed } from "./types.js";

/** At most this many changes wait for their messages in one conversation; more are dropped. */
export const MAX_PENDING_CHANGES = 500;

export async function receiveChange(
  ctx: ClientContext,
  batch: Batch,
  conversation: ConversationRecord,
  by: string,
  content: ContentMeta,
  target: string,
  change: MessageChange,
): Promise<Processed> {
  const into = historyIdOf(conversation);
  const message = await ctx.repo.message(into, target);
  if (!message) {
    await keepPending(ctx, batch, into, { id: content.id, target, by, at: content.sentAt, change });
    return nothing();
  }
  const self = (await requireProfile(ctx)).identityPublicKey;
  const next = applyChange(message, self, by, content.sentAt, change);
  if (next === "forged") {
    return reject({
      reason: "not_author",
      conversationId: conversation.id,
      change: change.kind === "edit" ? "edit" : "delete",
    });
  }
  if (!next) return nothing();
  ctx.repo.putMessage(batch, next);
  return {
    events: [
      {
        type: "updated",
        change: changeName(change),
        by: await person(ctx, conversation.id, by),
        message: await messageView(ctx, next, conversation),
      },
    ],
    followups: [],
  };
}

/**
 * Keeps a change for a message not here yet. Changes older than a relay keeps a message (their
 * message will never come) are dropped on the way, and past MAX_PENDING_CHANGES new ones are: a
 * member cannot fill this device's store with changes to messages that do not exist.
 */
async function keepPending(
  ctx: ClientContext,
  batch: Batch,
  historyId: string,
  pending: { id: string; target: string; by: string; at: number; change: MessageChange },
): Promise<void> {
  const now = ctx.now();
  let waiting = 0;
  for (const p of await ctx.repo.pendingChanges(historyId)) {
    if (now - p.receivedAt > MAX_DELIVERY_DELAY_MS) ctx.repo.deletePendingChange(batch, historyId, p);
    else waiting++;
  }
  if (waiting >= MAX_PENDING_CHANGES) return;
  ctx.repo.putPendingChange(batch, historyId, { ...pending, receivedAt: now });
}

/**
 * A message just stored, with the changes that waited for it applied (oldest first; a forged one is
 * dropped without a word, the message itself is fine). The caller stores what this returns.
 */
export async function withPendingChanges(
  ctx: ClientContext,
  batch: Batch,
  message: MessageRecord,
): Promise<MessageRecord> {
  const pending = await ctx.repo.pendingChanges(message.conversationId, message.id);
  if (pending.length === 0) return message;
  const self = (await requireProfile(ctx)).identityPublicKey;
  let result = message;
  for (const p of pending.sort((a, b) => a.at - b.at)) {
    const next = applyChange(result, self, p.by, p.at, p.change);
    if (next && next !== "forged") result = next;
    ctx.repo.deletePendingChange(batch, message.conversationId, p);
  }
  return result;
}
