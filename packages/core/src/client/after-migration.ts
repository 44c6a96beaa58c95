/**
 * What a local migration left for the first sync after it (Keys.afterMigration; version 4 in
 * store/migrations.ts): fresh KeyPackages for every contact, and a `needs-readd` event, once, for
 * each group whose MLS state could not be carried over. Each item is done under the profile lock and
 * then crossed off, so a sync that fails half-way (the relay is down) does the rest next time.
 */
import type { ClientContext } from "./context.js";
import type { ClientEvent } from "./events.js";
import { attempt } from "./followups/attempt.js";
import { giveKeyPackagesLocked, KEY_PACKAGE_STOCK } from "./key-packages.js";

export async function runAfterMigration(ctx: ClientContext): Promise<ClientEvent[]> {
  const pending = await ctx.repo.afterMigration();
  if (pending === undefined) return [];
  const events: ClientEvent[] = [];
  await ctx.lock.run(async () => {
    const now = await ctx.repo.afterMigration();
    if (now === undefined || now.needsReadd.length === 0) return;
    for (const id of now.needsReadd) {
      const c = await ctx.repo.conversation(id);
      if (c?.kind === "group" && c.status === "needs-readd") {
        events.push({
          type: "group",
          conversationId: c.id,
          name: c.name,
          change: "needs-readd",
          reason: c.statusReason ?? "",
        });
      }
    }
    await ctx.repo.commit(ctx.repo.putAfterMigration(ctx.repo.batch(), { ...now, needsReadd: [] }));
  });
  for (const id of pending.keyPackages) {
    await attempt(events, id, "key-packages", () =>
      ctx.lock.run(async () => {
        const now = await ctx.repo.afterMigration();
        if (!now?.keyPackages.includes(id)) return; // done meanwhile (another process)
        // A conversation deleted since has nobody to give KeyPackages to.
        if (await ctx.repo.conversation(id)) await giveKeyPackagesLocked(ctx, id, KEY_PACKAGE_STOCK);
        const rest = { ...now, keyPackages: now.keyPackages.filter((k) => k !== id) };
        await ctx.repo.commit(ctx.repo.putAfterMigration(ctx.repo.batch(), rest));
      }),
    );
  }
  return events;
}
