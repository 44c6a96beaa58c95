/**
 * Scheduled key updates: post-compromise security holds only if every member's leaf keys change now
 * and then. Each device commits a fresh UpdatePath in each active group after KEY_UPDATE_MS or
 * KEY_UPDATE_MESSAGES messages since its last commit (any commit of ours carries one), whichever
 * comes first — each threshold jittered down by up to a quarter, drawn afresh every round, so that
 * thousands of members do not all commit at once. Checked on each sync and before we write.
 */
import type { Batch } from "../../store/batch.js";
import { type KeyScheduleRecord, keySchedule, putKeySchedule } from "../../store/group-order.js";
import type { ClientContext } from "../context.js";
import type { ClientEvent } from "../events.js";
import { commitChange } from "./commit-order.js";

export const KEY_UPDATE_MS = 7 * 24 * 3_600_000;
export const KEY_UPDATE_MESSAGES = 1000;
const JITTER = 0.25;

/** A fresh round: thresholds with their jitter, counted from now. */
export function freshSchedule(ctx: ClientContext): KeyScheduleRecord {
  const draw = () => 1 - JITTER * (ctx.crypto.randomBytes(1)[0]! / 255);
  return {
    lastAt: ctx.now(),
    messages: 0,
    dueMs: Math.round(KEY_UPDATE_MS * draw()),
    dueMessages: Math.round(KEY_UPDATE_MESSAGES * draw()),
  };
}

/** Starts a new round (our commit won). */
export const resetKeySchedule = (ctx: ClientContext, batch: Batch, conversationId: string) =>
  putKeySchedule(batch, conversationId, freshSchedule(ctx));

/** Counts one group message read or sent. */
export async function countGroupMessage(ctx: ClientContext, batch: Batch, conversationId: string) {
  const r = (await keySchedule(ctx.repo, conversationId)) ?? freshSchedule(ctx);
  putKeySchedule(batch, conversationId, { ...r, messages: r.messages + 1 });
}

export async function keyUpdateDue(ctx: ClientContext, conversationId: string): Promise<boolean> {
  const r = await keySchedule(ctx.repo, conversationId);
  if (!r) {
    // A group from before schedules: its round starts now.
    await ctx.lock.run(() => ctx.repo.commit(resetKeySchedule(ctx, ctx.repo.batch(), conversationId)));
    return false;
  }
  return r.messages >= r.dueMessages || ctx.now() - r.lastAt >= r.dueMs;
}

/** Commits the key updates that are due, in every active group; their events. */
export async function scheduledKeyUpdates(ctx: ClientContext): Promise<ClientEvent[]> {
  const events: ClientEvent[] = [];
  for (const c of await ctx.repo.conversations()) {
    if (c.kind !== "group" || c.status !== "active") continue;
    if (await keyUpdateDue(ctx, c.id)) events.push(...(await commitChange(ctx, c.id, { rekey: true })));
  }
  return events;
}
