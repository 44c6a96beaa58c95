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
 * - Delivery runs under the outbox lock (ClientEnvironment.outboxLock: a lock file on Node), and
 *   each entry is read again under the profile lock, so two processes of one profile (a CLI `send`
 *   beside a running `listen`) never both send it. A 1:1 batch's request holds the outbox lock
 *   only: sealing goes on meanwhile.
 * - A refusal that a retry cannot change (too big, malformed) marks the message "failed" and ends
 *   its entry; so does a 1:1 queue that stays gone for OUTBOX_MAX_AGE_MS.
 * - What queued up in a 1:1 conversation goes together: one lock, one wait for durability, one
 *   relay request (`POST /v1/send-batch`, stored in order, stopping at the first refusal) and one
 *   write that ends the entries the relay took, for up to SEND_BATCH_LIMIT envelopes (issue 14:
 *   a request and a write per message held a conversation to ~150 messages a second).
 */
import { fromBase64Url as unb64r } from "../encoding/base64url.js";
import { ParleyError } from "../errors.js";
import { pad } from "../protocol/padding.js";
import { SEND_BATCH_LIMIT } from "../protocol/relay.js";
import { RelayError } from "../relay-client/errors.js";
import type { Batch } from "../store/batch.js";
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
  // Each conversation's due entries, oldest first, up to its first that is not due.
  const due = new Map<string, [string, OutboxEntry][]>();
  for (const [order, listed] of await ctx.repo.outbox()) {
    const { conversationId } = listed;
    if (options.conversationId !== undefined && conversationId !== options.conversationId) continue;
    if (waiting.has(conversationId)) continue;
    if (!options.now && listed.nextAttemptAt > ctx.now()) {
      waiting.add(conversationId);
      continue;
    }
    const list = due.get(conversationId);
    if (list) list.push([order, listed]);
    else due.set(conversationId, [[order, listed]]);
  }
  for (const [conversationId, entries] of due) {
    for (let i = 0; i < entries.length && !waiting.has(conversationId); ) {
      const run = entries.slice(i, i + SEND_BATCH_LIMIT);
      const { outcomes, handled } = await deliverRun(
        ctx,
        run.map(([order]) => order),
        options.now === true,
      );
      i += Math.max(1, handled);
      for (const [order, listed] of run) {
        const outcome = outcomes.get(order);
        if (!outcome) continue; // delivered or ended by another process meanwhile, or not tried
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
    }
  }
  for (const [conversationId, ids] of sent) result.events.unshift({ type: "sent", conversationId, ids });
  return result;
}

/** Background delivery per client: at most one run at a time; conversations asked for meanwhile go next. */
const pumps = new WeakMap<ClientContext, { running: Promise<void> | undefined; asked: Set<string> }>();

/**
 * Delivers `conversationId`'s outbox now, in the background: a send that does not wait for the
 * relay. While a delivery runs, what is sealed meanwhile waits for the next one, and goes with the
 * rest of what queued up as one batch. Outcomes go to the listeners (ClientContext.listeners) and
 * the store. Resolves once the pump is idle (settleOutbox).
 */
export function deliverInBackground(ctx: ClientContext, conversationId: string): Promise<void> {
  let pump = pumps.get(ctx);
  if (!pump) {
    pump = { running: undefined, asked: new Set() };
    pumps.set(ctx, pump);
  }
  pump.asked.add(conversationId);
  const p = pump;
  p.running ??= (async () => {
    while (p.asked.size > 0) {
      const asked = [...p.asked];
      p.asked.clear();
      for (const id of asked) {
        try {
          for (const e of (await deliverOutbox(ctx, { conversationId: id, now: true })).events)
            for (const l of ctx.listeners) l(e);
        } catch (e) {
          // A local failure: the entries stay, and a later delivery (sync, listen) tries again.
          for (const l of ctx.listeners) l({ type: "failure", source: "local", cause: (e as Error).message });
        }
      }
    }
  })().finally(() => {
    p.running = undefined;
  });
  return p.running;
}

/** Resolves once no background delivery runs. */
export function settleOutbox(ctx: ClientContext): Promise<void> {
  return pumps.get(ctx)?.running ?? Promise.resolve();
}

/** Whether any entry is due now (cheap enough to ask every second). */
export async function outboxDue(ctx: ClientContext): Promise<boolean> {
  const now = ctx.now();
  return (await ctx.repo.outbox()).some(([, e]) => e.nextAttemptAt <= now);
}

type Outcome = { status: "sent" | "sending" | "failed"; error?: unknown };

/** A batch's envelopes add up to at most this (a chat message is 512 B to 4 KiB padded). */
const BATCH_MAX_BYTES = 256 * 1024;

/**
 * Delivers the entries `orders` (one conversation's, oldest first), each read again under the
 * profile lock. A 1:1 conversation's go in batch sends; a group's, each on its own (publishToGroup).
 * Returns an outcome per entry tried (after one that must wait, the rest are not tried) and how
 * many of `orders`, from the first, were dealt with (tried, or gone meanwhile): a batch may end
 * early at its size limit.
 *
 * Under the outbox lock throughout (no other delivery, in this process or another, runs at the same
 * time), and under the profile lock only to read and to write: a batch's request does not hold up
 * sealing the next messages, which then go together in the next batch.
 */
async function deliverRun(
  ctx: ClientContext,
  orders: string[],
  now: boolean,
): Promise<{ outcomes: Map<string, Outcome>; handled: number }> {
  return ctx.outboxLock.run(async () => {
    const plan = await ctx.lock.run(() => planRunLocked(ctx, orders, now));
    if (!("envelopes" in plan)) return plan;
    let stored = 0;
    let refused: RelayError | undefined;
    try {
      const r = await ctx.relay(plan.relay).sendBatch(plan.envelopes, { synced: !plan.ahead });
      stored = r.msgIds.length;
      refused = r.refused;
    } catch (error) {
      if (!(error instanceof RelayError)) throw error; // a local failure: the entries stay as they are
      refused = error;
    }
    // An entry counts as taken when all its envelopes were stored.
    const done = new Set(plan.envelopes.map((e) => e.order));
    for (const e of plan.envelopes.slice(stored)) done.delete(e.order);
    const outcomes = await ctx.lock.run(async () => {
      const { repo } = ctx;
      const out = new Map<string, Outcome>();
      const batch = repo.batch();
      for (const order of plan.taken) {
        // Read again: the conversation may have been deleted meanwhile, and its entries with it.
        const entry = await repo.outboxEntry(order);
        if (!entry) continue;
        if (done.has(order)) {
          await finishInto(ctx, batch, order, entry, plan.historyId, "sent");
          out.set(order, { status: "sent" });
          continue;
        }
        out.set(order, await refusedLocked(ctx, batch, order, entry, plan.historyId, refused!));
        break; // the rest wait behind it, untried
      }
      await repo.commit(batch);
      return out;
    });
    return { outcomes, handled: plan.handled };
  });
}

type Planned =
  | { outcomes: Map<string, Outcome>; handled: number }
  | {
      relay: string;
      envelopes: { sendId: string; body: Uint8Array; order: string }[];
      taken: string[];
      historyId: string;
      handled: number;
      /** Every entry taken may leave before the store's next sync (sending-ahead.ts). */
      ahead: boolean;
    };

/**
 * Under the profile lock: what to send of `orders`. A group's entries (and a 1:1 entry copied to
 * our devices' queue on another relay) are delivered here and now, each on its own.
 */
async function planRunLocked(ctx: ClientContext, orders: string[], now: boolean): Promise<Planned> {
  const { repo } = ctx;
  const outcomes = new Map<string, Outcome>();
  const first = await repo.outboxEntry(orders[0]!);
  const conversation = first && (await repo.conversation(first.conversationId));
  if (!conversation || conversation.kind === "group" || !conversation.sendTo) {
    for (const order of orders) {
      const outcome = await deliverOneLocked(ctx, order, now);
      if (!outcome) continue;
      outcomes.set(order, outcome);
      if (outcome.status === "sending") break;
    }
    return { outcomes, handled: orders.length };
  }
  const { sendTo, receive } = conversation;
  // Entries still there and due (another process may have delivered or tried some meanwhile).
  const entries: [string, OutboxEntry][] = [];
  for (const order of orders) {
    const entry = await repo.outboxEntry(order);
    if (!entry) continue;
    if (!now && entry.nextAttemptAt > ctx.now()) {
      outcomes.set(order, { status: "sending" });
      break;
    }
    entries.push([order, entry]);
  }
  // Each entry's envelopes: to the contact's queue, and a copy to our devices' shared queue.
  const copies = isBroadcast(receive) && receive.relay === sendTo.relay;
  const envelopes: { sendId: string; body: Uint8Array; order: string }[] = [];
  const taken: string[] = [];
  let bytes = 0;
  for (const [order, entry] of entries) {
    const body = pad(unb64r(entry.payload));
    const mine = copies && !entry.receipt ? [{ sendId: receive.sendId, body, order }] : [];
    const more = 1 + mine.length;
    const full = envelopes.length + more > SEND_BATCH_LIMIT || bytes + more * body.length > BATCH_MAX_BYTES;
    if (taken.length > 0 && full) break;
    if (isBroadcast(receive) && !copies && !entry.receipt) {
      // Our devices' queue on another relay: this entry the way a single one goes.
      if (taken.length > 0) break;
      const outcome = await deliverOneLocked(ctx, order, now);
      if (outcome) outcomes.set(order, outcome);
      return { outcomes, handled: orders.indexOf(order) + 1 };
    }
    envelopes.push({ sendId: sendTo.sendId, body, order }, ...mine);
    bytes += more * body.length;
    taken.push(order);
  }
  // Up to the first entry left for the next batch, everything was dealt with.
  const handled = taken.length < entries.length ? orders.indexOf(entries[taken.length]![0]) : orders.length;
  if (taken.length === 0) return { outcomes, handled };
  // Every entry sealed under a reservation on disk: no sync to wait for (sending-ahead.ts).
  const ahead = taken.every((order) => entries.find(([o]) => o === order)?.[1].ahead === true);
  return { relay: sendTo.relay, envelopes, taken, historyId: historyIdOf(conversation), handled, ahead };
}

/** What becomes of an entry the relay refused or could not be reached for: failed, or a later try. */
async function refusedLocked(
  ctx: ClientContext,
  batch: Batch,
  order: string,
  entry: OutboxEntry,
  historyId: string,
  error: RelayError,
): Promise<Outcome> {
  const age = ctx.now() - Number(order.slice(0, 15));
  const gone = error.code === "unknown_queue" && age > OUTBOX_MAX_AGE_MS;
  if (permanent(error) || gone) {
    await finishInto(ctx, batch, order, entry, historyId, "failed");
    return { status: "failed", error };
  }
  const attempts = entry.attempts + 1;
  const retry: OutboxEntry = {
    ...entry,
    attempts,
    nextAttemptAt: ctx.now() + backoffMs(attempts),
    lastError: error.code,
  };
  ctx.repo.putOutboxEntry(batch, order, retry);
  return { status: "sending", error };
}

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
  // Sealed under a reservation on disk: no sync to wait for (sending-ahead.ts).
  const synced = entry.ahead !== true;
  try {
    if (conversation.kind === "group") {
      await publishToGroup(ctx, conversation, [payload], { rescue: true, synced });
    } else {
      if (!conversation.sendTo) throw new ParleyError("not_ready", { contact: "" });
      await ctx.relay(conversation.sendTo.relay).send(conversation.sendTo.sendId, pad(payload), { synced });
      // Our devices share this chat's queue once there are several (docs/devices.md): a copy
      // there shows it on the others (each skips its own). A retry sends both again; receivers
      // skip a payload they have seen.
      if (isBroadcast(conversation.receive) && !entry.receipt) {
        await ctx
          .relay(conversation.receive.relay)
          .send(conversation.receive.sendId, pad(payload), { synced });
      }
    }
  } catch (error) {
    if (!(error instanceof RelayError)) throw error; // a local failure: the entry stays as it is
    const batch = repo.batch();
    const outcome = await refusedLocked(ctx, batch, order, entry, historyIdOf(conversation), error);
    await repo.commit(batch);
    return outcome;
  }
  const batch = repo.batch();
  await finishInto(ctx, batch, order, entry, historyIdOf(conversation), "sent");
  await repo.commit(batch);
  return { status: "sent" };
}

/**
 * Adds to `batch` the end of an entry and its message's move to `status` (never backwards from "delivered"). The message
 * is in `historyId`: its conversation's history, which is another conversation's if a later one
 * with the same person replaced it meanwhile (the message moved with the history).
 */
async function finishInto(
  ctx: ClientContext,
  batch: Batch,
  order: string,
  entry: OutboxEntry,
  historyId: string,
  status: "sent" | "failed",
) {
  const { repo } = ctx;
  repo.deleteOutboxEntry(batch, order);
  const message = await repo.message(historyId, entry.messageId);
  if (message && message.status === "sending") repo.putMessage(batch, { ...message, status });
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
