/** KeyPackages for a contact (after connecting, and one more each time they add us to a group). */
import type { ClientEvent } from "../events.js";
import { giveKeyPackagesLocked } from "../key-packages.js";
import { attempt } from "./attempt.js";
import type { FollowupRunner } from "./types.js";

export const keyPackagesFollowup: FollowupRunner<"key-packages"> = {
  async run(ctx, items) {
    const events: ClientEvent[] = [];
    for (const f of items) {
      await attempt(events, f.conversationId, "key-packages", () =>
        ctx.lock.run(() => giveKeyPackagesLocked(ctx, f.conversationId, f.count, f.cipherSuites, f.retire)),
      );
    }
    return events;
  },
};
