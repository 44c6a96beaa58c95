/** A join request through a group link that needs no approval: this admin's client adds them. */
import { joinRequests } from "../../store/group-links.js";
import type { ClientEvent } from "../events.js";
import { addRequest } from "../group-links/requests.js";
import { attempt } from "./attempt.js";
import type { FollowupRunner } from "./types.js";

export const groupLinkAddFollowup: FollowupRunner<"group-link-add"> = {
  async run(ctx, items) {
    const events: ClientEvent[] = [];
    for (const f of items) {
      await attempt(events, f.conversationId, "group-link-add", async () => {
        // Gone: answered meanwhile (or replaced by a newer request of the same person, added below).
        const request = (await joinRequests(ctx.repo, f.conversationId)).find((r) => r.id === f.requestId);
        // In the group already (another admin's client added them first): nothing to do.
        if (request) events.push(...((await addRequest(ctx, f.conversationId, request))?.events ?? []));
      });
    }
    return events;
  },
};
