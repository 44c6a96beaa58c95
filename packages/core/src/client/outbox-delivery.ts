/**
 * The outbox: what the user sent is stored before any network call, and handed to the relay from
 * here until the relay takes it — across relay outages, a closed laptop, a killed process.
 *
 * `send` (outbox.ts) seals a message, and in one write stores the message ("sending"), the moved
 * ratchet and an outbox entry holding the sealed bytes. Delivery then tries the entry now and, if
 * the relay cannot be reached, again later with backoff: from the next `send`, `sync`, and every
 * second while `listen` runs (at once when a relay connection opens again).
 *
 * Rules:
 * - Sealed once: a retry sends the very bytes of the first try, never a new encryption, so a
 *   message cannot arrive twice under two ratchet positions.
 * - A try whose outcome is unknown (the relay took it but the answer was lost, or the process died
 *   before the entry was removed) is tried again; the second copy is skipped by the receiver, which
 *   keeps a digest of every MLS message it accepted (`payloadSeen`), as is our own group echo.
 * - In order per conversation: while its oldest entry waits, the later ones wait behind it.
 * - Each entry is delivered under the profile lock and read again under it, so two processes of
 *   one profile (a CLI `send` beside a running `listen`) never both send it.
 * - A refusal that a retry cannot change (too big, malformed) marks the message "failed" and ends
 *   its entry; so does a 1:1 queue that stays gone for OUTBOX_MAX_AGE_MS.
 */
import { fromBase64Url as unb64r } from "../encoding/base64url.js";
import { ParleyError } from "../errors.js";
import { pad } from "../protocol/padding.js";
import { RelayError } from "../relay-client/errors.js";
import type { OutboxEntry } from "../store/records.js";
import type { ClientContext } from "./context.js";
import type { ClientEvent } from "./events.js";
import { publishToGroup } from "./groups/queue.js";
import { isBroadcast } from "./inbox/receive.js";
import { historyIdOf } from "./lookup.js";

/** Backoff after the n-th failed try: 1 s, 2 s, 4 s … at most a minute. */
export const backoffMs = (attempts: number): number =>
  Math.min(60_000, 1000 * 2 ** Math.max(0, attempts - 1));

/** A 1:1 message whose contact's queue stays gone this long is given up ("failed"). */
export const OUTBOX_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;

export interface DeliveryOptions {
  /** Only this conversation's entries (a `send`); default every conversation. */
  conversationId?: string;
  /** Ignore backoff: a relay connection just opened, or the user asked. */
  now?: boolean;
}

export interface DeliveryResult {
  events: ClientEvent[];
  /** What became of each entry tried: the relay took it, it waits for a retry, or it failed. */
  outcomes: Map<string, { status: "sent" | "sending" | "failed"; error?: unknown }>;
}

/** Tries the due outbox entries, oldest first; never throws for a relay that cannot be reached. */
export async function deliverOutbox(
  ctx: ClientContext,
  options: DeliveryOptions = {},
): Promise<DeliveryResult> {
  const result: DeliveryResult = { events: [], outcomes: new Map() };
  const waiting = new Set<string>(); // conversations whose oldest entry waits: the rest wait too
  const sent = new Map<string, string[]>(); // one "sent" event per conversation, in order
  for (const [order, listed] of await ctx.repo.outbox()) {
    const { conversationId } = listed;
    if (options.conversationId !== undefined && conversationId !== options.conversationId) continue;
    if (waiting.has(conversationId)) continue;
    if (!options.now && listed.nextAttemptAt > ctx.now()) {
      waiting.add(conversationId);
      continue;
    }
    const outcome = await ctx.lock.run(() => deliverOneLocked(ctx, order, options.now === true));
    if (!outcome) continue; // delivered or ended by another process meanwhile
    result.outcomes.set(listed.messageId, outcome);
    // A read receipt taken or refused is no news for anyone; it still keeps its place in line.
    if (listed.receipt && outcome.status !== "sending") continue;
    if (outcome.status === "sent") {
      sent.set(conversationId, [...(sent.get(conversationId) ?? []), listed.messageId]);
    } else if (outcome.status === "failed") {
      result.events.push({
        type: "warning",
        conversationId,
        code: "send_failed",
        messageId: listed.messageId,
        cause: (outcome.error as Error).message,
      });
    } else {
      waiting.add(conversationId);
    }
  }
  for (const [conversationId, ids] of sent) result.events.unshift({ type: "sent", conversationId, ids });
  return result;
}

/** Whether any entry is due now (cheap enough to ask every second). */
export async function outboxDue(ctx: ClientContext): Promise<boolean> {
  const now = ctx.now();
  return (await ctx.repo.outbox()).some(([, e]) => e.nextAttemptAt <= now);
}

type Outcome = { status: "sent" | "sending" | "failed"; error?: unknown };

async function deliverOneLocked(
  ctx: ClientContext,
  order: string,
  now: boolean,
): Promise<Outcome | undefined> {
  const { repo } = ctx;
  const entry = await repo.outboxEntry(order);
  // Gone: delivered or ended by another process. Not due: another process tried it meanwhile.
  if (!entry) return undefined;
  if (!now && entry.nextAttemptAt > ctx.now()) return { status: "sending" };
  const conversation = await repo.conversation(entry.conversationId);
  if (!conversation) {
    // The conversation was deleted: its messages with it.
    await repo.commit(repo.deleteOutboxEntry(repo.batch(), order));
    return undefined;
  }
  const payload = unb64r(entry.payload);
  try {
    if (conversation.kind === "group") {
      await publishToGroup(ctx, conversation, [payload], { rescue: true });
    } else {
      if (!conversation.sendTo) throw new ParleyError("not_ready", { contact: "" });
      await ctx.relay(conversation.sendTo.relay).send(conversation.sendTo.sendId, pad(payload));
      // Our devices share this chat's queue once there are several (docs/devices.md): a copy
      // there shows it on the others (each skips its own). A retry sends both again; receivers
      // skip a payload they have seen.
      if (isBroadcast(conversation.receive) && !entry.receipt) {
        await ctx.relay(conversation.receive.relay).send(conversation.receive.sendId, pad(payload));
      }
    }
  } catch (error) {
    if (!(error instanceof RelayError)) throw error; // a local failure: the entry stays as it is
    const age = ctx.now() - Number(order.slice(0, 15));
    const gone = error.code === "unknown_queue" && age > OUTBOX_MAX_AGE_MS;
    if (permanent(error) || gone) {
      await finish(ctx, order, entry, historyIdOf(conversation), "failed");
      return { status: "failed", error };
    }
    const attempts = entry.attempts + 1;
    const retry: OutboxEntry = {
      ...entry,
      attempts,
      nextAttemptAt: ctx.now() + backoffMs(attempts),
      lastError: error.code,
    };
    await repo.commit(repo.putOutboxEntry(repo.batch(), order, retry));
    return { status: "sending", error };
  }
  await finish(ctx, order, entry, historyIdOf(conversation), "sent");
  return { status: "sent" };
}

/**
 * Ends an entry and moves its message to `status` (never backwards from "delivered"). The message
 * is in `historyId`: its conversation's history, which is another conversation's if a later one
 * with the same person replaced it meanwhile (the message moved with the history).
 */
async function finish(
  ctx: ClientContext,
  order: string,
  entry: OutboxEntry,
  historyId: string,
  status: "sent" | "failed",
) {
  const { repo } = ctx;
  const batch = repo.deleteOutboxEntry(repo.batch(), order);
  const message = await repo.message(historyId, entry.messageId);
  if (message && message.status === "sending") repo.putMessage(batch, { ...message, status });
  await repo.commit(batch);
}

/**
 * Refusals a retry cannot change. Everything else — the relay unreachable or overloaded (5xx,
 * 507 storage_full), rate limits, a proof of work that took too long, a 1:1 queue that vanished
 * (the contact renews it and tells us) — is tried again.
 */
function permanent(e: RelayError): boolean {
  if (e.code === "network" || e.code === "unknown_queue" || e.code === "pow_failed") return false;
  if (e.status === undefined) return false;
  return e.status >= 400 && e.status < 500 && e.status !== 408 && e.status !== 429;
}
