/**
 * Deletes what a disappearing-messages timer says is due (timer.ts): messages sent or received
 * since the timer was set and older than it, with their file records; our own files are deleted
 * from the relay too (the capability is ours), best effort — a relay out of reach lets them expire.
 * Run before history is read and on every sync.
 */
import type { ConversationRecord, MessageRecord } from "../../store/records.js";
import type { ClientContext } from "../context.js";
import type { ClientEvent } from "../events.js";

/** Whether the conversation's timer says `m` is due to be deleted at `now`. */
export function isExpired(c: ConversationRecord, m: MessageRecord, now: number): boolean {
  if (c.expireAfter === undefined || c.expireSince === undefined) return false;
  // "Since the timer" by the sender's clock, as the timer's own time is (a message that was
  // sent before it but arrives after it stays); "older than the timer" from when it came.
  const at = m.fromMe ? m.sentAt : (m.receivedAt ?? m.sentAt);
  return m.sentAt >= c.expireSince && at + c.expireAfter * 1000 <= now;
}

/** Deletes what is due; returns an `expired` event per conversation that lost messages. */
export async function sweepExpired(ctx: ClientContext): Promise<ClientEvent[]> {
  const now = ctx.now();
  const due: MessageRecord[] = [];
  for (const c of await ctx.repo.conversations()) {
    if (c.expireAfter === undefined || c.expireSince === undefined) continue;
    for (const m of await ctx.repo.messages(c.id, Number.MAX_SAFE_INTEGER)) {
      if (isExpired(c, m, now)) due.push(m);
    }
  }
  if (due.length === 0) return [];
  await ctx.lock.run(async () => {
    const batch = ctx.repo.batch();
    for (const m of due) ctx.repo.deleteMessage(batch, m);
    await ctx.repo.commit(batch);
  });
  for (const m of due) {
    const f = m.file;
    if (f?.deleteCap && !f.deleted)
      await ctx
        .blobs(f.blob.relay)
        .delete(f.blob.blobId, f.deleteCap)
        .catch(() => undefined);
  }
  const byConversation = new Map<string, string[]>();
  for (const m of due)
    byConversation.set(m.conversationId, [...(byConversation.get(m.conversationId) ?? []), m.id]);
  return [...byConversation].map(([conversationId, ids]) => ({ type: "expired", conversationId, ids }));
}

/** While `listen` runs: what comes due is deleted within `everyMs`, and reported. Returns the stop. */
export function sweepWhileListening(
  ctx: ClientContext,
  onEvent: (event: ClientEvent) => void,
  signal: AbortSignal,
  everyMs = 5000,
): () => void {
  const timer = setInterval(() => {
    sweepExpired(ctx).then(
      (events) => events.forEach(onEvent),
      (e: unknown) => onEvent({ type: "failure", source: "local", cause: (e as Error).message }),
    );
  }, everyMs);
  signal.addEventListener("abort", () => clearInterval(timer), { once: true });
  return () => clearInterval(timer);
}
