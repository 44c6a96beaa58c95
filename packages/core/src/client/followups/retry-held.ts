/** After a commit: messages held for a later epoch may now be processed. */
import type { ClientEvent } from "../events.js";
import { retryHeld } from "../inbox/held.js";
import type { FollowupRunner } from "./types.js";

export const retryHeldFollowup: FollowupRunner<"retry-held"> = {
  async run(ctx, items) {
    const events: ClientEvent[] = [];
    for (const f of items) events.push(...(await retryHeld(ctx, f.conversationId)));
    return events;
  },
};
