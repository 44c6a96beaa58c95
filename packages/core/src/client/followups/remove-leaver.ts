/** A member said they leave (group-leave): the designated admin's client removes them. */
import { b64 } from "../../store/repository.js";
import type { ClientEvent } from "../events.js";
import { removeIdentitiesLocked } from "../groups/admin.js";
import { person, requireGroupConversation } from "../lookup.js";
import { loadState } from "../mls-state.js";
import { attempt } from "./attempt.js";
import type { FollowupRunner } from "./types.js";

export const removeLeaverFollowup: FollowupRunner<"remove-leaver"> = {
  async run(ctx, items) {
    const events: ClientEvent[] = [];
    for (const f of items) {
      await attempt(events, f.conversationId, "remove-leaver", () =>
        ctx.lock.run(async () => {
          const c = await requireGroupConversation(ctx, f.conversationId);
          const state = await loadState(ctx, c.groupId);
          if (!ctx.engine.members(state).some((m) => b64(m.identityKey) === f.identityKey)) return;
          const leaver = await person(ctx, c.id, f.identityKey);
          await removeIdentitiesLocked(ctx, c, state, [f.identityKey]);
          // Our own commit never echoes back as an event: say here that the members changed.
          events.push({
            type: "group",
            conversationId: c.id,
            name: c.name,
            change: "members",
            added: [],
            removed: [leaver],
          });
        }),
      );
    }
    return events;
  },
};
