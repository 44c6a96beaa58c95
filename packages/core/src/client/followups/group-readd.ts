/** A member's device asked us to re-add it (inbox/handlers/group-readd.ts): one commit, through the commit order. */
import type { ClientEvent } from "../events.js";
import { commitChange } from "../groups/commit-order.js";
import { attempt } from "./attempt.js";
import type { FollowupRunner } from "./types.js";

export const groupReaddFollowup: FollowupRunner<"group-readd"> = {
  async run(ctx, items) {
    const events: ClientEvent[] = [];
    for (const f of items) {
      await attempt(events, f.conversationId, "group-readd", async () => {
        events.push(...(await commitChange(ctx, f.conversationId, { readd: [f.readd] })));
      });
    }
    return events;
  },
};
