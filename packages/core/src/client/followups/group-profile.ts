/** Our name, told to a group we just joined (members who are not our contacts know us by it). */
import { requireProfile } from "../context.js";
import type { ClientEvent } from "../events.js";
import { publishToGroup } from "../groups/queue.js";
import { requireGroupConversation } from "../lookup.js";
import { commitWithState, encryptContent, loadState, saveState } from "../mls-state.js";
import { attempt } from "./attempt.js";
import type { FollowupRunner } from "./types.js";

export const groupProfileFollowup: FollowupRunner<"group-profile"> = {
  async run(ctx, items) {
    const events: ClientEvent[] = [];
    const profile = await requireProfile(ctx);
    for (const f of items) {
      await attempt(events, f.conversationId, "group-profile", () =>
        ctx.lock.run(async () => {
          const c = await requireGroupConversation(ctx, f.conversationId);
          // Removed (or left) in the same sync that joined us: nobody left to tell, no keys to
          // tell them with. Said as "removed" already; not a failure.
          if (c.status !== "active") return;
          const sealed = await encryptContent(ctx, await loadState(ctx, c.groupId), {
            type: "profile",
            name: profile.name,
          });
          const batch = ctx.repo.batch();
          saveState(ctx, batch, c.groupId, sealed.state);
          await commitWithState(ctx, batch, c.groupId, sealed.state);
          await publishToGroup(ctx, c, [sealed.message]);
        }),
      );
    }
    return events;
  },
};
