/**
 * Changing our display name (issue 14): kept in the profile, and told end to end to every contact
 * (a `profile` message in each 1:1 chat; a contact who named us themselves keeps their name for us)
 * and to every group we are in (members who are not our contacts know us by it). The relay sees
 * one more padded message per conversation, nothing else.
 */
import type { ProfileRecord } from "../store/records.js";
import type { ClientContext } from "./context.js";
import { requireProfile } from "./context.js";
import type { ClientEvent } from "./events.js";
import { attempt } from "./followups/attempt.js";
import { runFollowups } from "./followups/run.js";
import { parseName } from "./names.js";
import { sendContentLocked } from "./outbox.js";

export async function setProfileName(
  ctx: ClientContext,
  name: string,
): Promise<{ profile: ProfileRecord; events: ClientEvent[] }> {
  const newName = parseName(name);
  const profile = await ctx.lock.run(async () => {
    const renamed = { ...(await requireProfile(ctx)), name: newName };
    await ctx.repo.commit(ctx.repo.putProfile(ctx.repo.batch(), renamed));
    return renamed;
  });
  const events: ClientEvent[] = [];
  const conversations = await ctx.repo.conversations();
  const blocked = new Set((await ctx.repo.contacts()).filter((c) => c.blocked).map((c) => c.id));
  for (const c of conversations) {
    if (c.kind !== "direct" || c.supersededBy || !c.sendTo || blocked.has(c.contactId)) continue;
    // One contact out of reach is a warning; the others still hear of it.
    await attempt(events, c.id, "profile", () =>
      ctx.lock.run(() => sendContentLocked(ctx, c.id, { type: "profile", name: newName })),
    );
  }
  const groups = conversations.filter((c) => c.kind === "group" && c.status === "active");
  events.push(
    ...(await runFollowups(
      ctx,
      groups.map((g) => ({ kind: "group-profile" as const, conversationId: g.id })),
    )),
  );
  return { profile, events };
}
