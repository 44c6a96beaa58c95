/** Delivery receipts, batched per conversation, at most MAX_RECEIPT_IDS ids a message. */
import { MAX_RECEIPT_IDS } from "../../content/receipt.js";
import type { ClientEvent } from "../events.js";
import { sendContentLocked } from "../outbox.js";
import { attempt } from "./attempt.js";
import type { FollowupRunner } from "./types.js";

export const receiptFollowup: FollowupRunner<"receipt"> = {
  async run(ctx, items) {
    const events: ClientEvent[] = [];
    const byConversation = new Map<string, string[]>();
    for (const f of items)
      byConversation.set(f.conversationId, [...(byConversation.get(f.conversationId) ?? []), ...f.ids]);
    for (const [conversationId, ids] of byConversation) {
      for (let i = 0; i < ids.length; i += MAX_RECEIPT_IDS) {
        await attempt(events, conversationId, "receipt", () =>
          ctx.lock.run(() =>
            sendContentLocked(ctx, conversationId, {
              type: "receipt",
              ids: ids.slice(i, i + MAX_RECEIPT_IDS),
            }),
          ),
        );
      }
    }
    return events;
  },
};
