/** A member said they leave (group-leave): the designated admin's client removes them. */
import { b64 } from "../../store/repository.js";
import type { ClientEvent } from "../events.js";
import { removeIdentitiesLocked } from "../groups/admin.js";
import { settleGroup } from "../groups/commit-order.js";
import { requireGroupConversation } from "../lookup.js";
import { loadState } from "../mls-state.js";
import { attempt } from "./attempt.js";
import type { FollowupRunner } from "./types.js";

export const removeLeaverFollowup: FollowupRunner<"remove-leaver"> = {
  async run(ctx, items) {
    const events: ClientEvent[] = [];
    for (const f of items) {
      await attempt(events, f.conversationId, "remove-leaver", async () => {
        const c = await requireGroupConversation(ctx, f.conversationId);
        const removing = await ctx.lock.run(async () => {
          const state = await loadState(ctx, c.groupId);
          if (!ctx.engine.members(state).some((m) => b64(m.identityKey) === f.identityKey)) return false;
          await removeIdentitiesLocked(ctx, c, state, [f.identityKey]);
          return true;
        });
        if (!removing) return;
        // The removal counts once it has won its epoch (commit-order.ts): until then the group
        // still has the leaver, and a view refreshed on the event below would still show them.
        events.push(...(await settleGroup(ctx, c.id)));
        // Our own commit never echoes back as an event: say here that the members changed.
        events.push({
          type: "group",
          conversationId: c.id,
          name: c.name,
          change: "members",
          // Nobody new is out: they were reported as having left when their mark came.
          added: [],
          removed: [],
          left: [],
        });
      });
    }
    return events;
  },
};
