/** A new contact (their intro arrived, or we accepted their invite) gets our profile photo, if we have one. */
import { requireProfile } from "../context.js";
import type { ClientEvent } from "../events.js";
import { sendContentLocked } from "../outbox.js";
import { attempt } from "./attempt.js";
import type { FollowupRunner } from "./types.js";

export const profilePhotoFollowup: FollowupRunner<"profile-photo"> = {
  async run(ctx, items) {
    const events: ClientEvent[] = [];
    const { photo } = await requireProfile(ctx);
    if (!photo) return events;
    for (const f of items) {
      await attempt(events, f.conversationId, "profile", () =>
        ctx.lock.run(() => sendContentLocked(ctx, f.conversationId, { type: "profile-photo", photo })),
      );
    }
    return events;
  },
};
