/**
 * Messages of a later epoch, delivered before the commit that leads there (out of order, or the
 * commit is still on its way): kept, and tried again after each commit the conversation processes.
 */
import { MlsFutureEpochError } from "../../mls/engine.js";
import type { Batch } from "../../store/batch.js";
import { b64, unb64 } from "../../store/repository.js";
import { type ClientContext, orderKey } from "../context.js";
import type { ClientEvent } from "../events.js";
import { runFollowups } from "../followups/run.js";
import type { Followup } from "../followups/types.js";
import { processInConversation } from "./conversation.js";
import { rejectionOf } from "./rejection.js";
import { nothing, type Processed } from "./types.js";

/** Messages of a later epoch kept per conversation until their commit arrives; more are rejected. */
export const MAX_HELD_MESSAGES = 256;

/** Keeps a message of a later epoch; past the cap it is rejected instead. */
export async function hold(
  ctx: ClientContext,
  batch: Batch,
  conversationId: string,
  queueId: string,
  msgId: string,
  payload: Uint8Array,
): Promise<Processed> {
  if ((await ctx.repo.held(conversationId, MAX_HELD_MESSAGES)).length >= MAX_HELD_MESSAGES) {
    return { events: [{ type: "rejected", reason: "too_many_held", conversationId }], followups: [] };
  }
  ctx.repo.putHeld(batch, conversationId, orderKey(ctx, msgId), {
    queueId,
    msgId,
    payload: b64(payload),
    heldAt: ctx.now(),
  });
  return { ...nothing(), held: true };
}

/** Processes held messages whose epoch has been reached, until a round makes no progress. */
export async function retryHeld(ctx: ClientContext, conversationId: string): Promise<ClientEvent[]> {
  const events: ClientEvent[] = [];
  const followups: Followup[] = [];
  for (let progressed = true; progressed; ) {
    progressed = false;
    for (const [order, held] of await ctx.repo.held(conversationId)) {
      const r = await ctx.lock.run(async (): Promise<Processed | undefined> => {
        const work = ctx.repo.batch();
        let result: Processed;
        try {
          result = await processInConversation(ctx, work, conversationId, unb64(held.payload), held.queueId);
        } catch (e) {
          if (e instanceof MlsFutureEpochError) return undefined; // still ahead: keep it
          const rejection = rejectionOf(e);
          if (!rejection) throw e;
          work.clear();
          result = { events: [{ type: "rejected", ...rejection }], followups: [] };
        }
        await ctx.repo.commit(ctx.repo.deleteHeld(work, conversationId, order));
        if (result.saved) ctx.repo.groupStateSaved(result.saved.groupId, result.saved.epoch);
        return result;
      });
      if (!r) continue;
      progressed = true;
      events.push(...r.events);
      followups.push(...r.followups.filter((f) => f.kind !== "retry-held"));
    }
  }
  return [...events, ...(await runFollowups(ctx, followups))];
}
