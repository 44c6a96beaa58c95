/**
 * A feed group's membership changes are not news (docs/04-posts.md): being added to a friend's
 * audience, or removed from it, is not reported — the feed says nothing to a removed member about
 * it. Its posts, comments and likes are reported as `post` events instead.
 */
import type { ClientContext } from "../context.js";
import type { ClientEvent } from "../events.js";

async function isFeed(ctx: ClientContext, conversationId: string): Promise<boolean> {
  const c = await ctx.repo.conversation(conversationId);
  return c?.kind === "group" && c.feed === true;
}

/** `events` without the group events of feed groups. */
export async function withoutFeedGroupEvents(
  ctx: ClientContext,
  events: ClientEvent[],
): Promise<ClientEvent[]> {
  const kept: ClientEvent[] = [];
  for (const e of events) if (e.type !== "group" || !(await isFeed(ctx, e.conversationId))) kept.push(e);
  return kept;
}

/** `onEvent`, passed every event but a feed group's group events (those go after a store lookup). */
export function quietFeedGroups(ctx: ClientContext, onEvent: (e: ClientEvent) => void) {
  return (e: ClientEvent): void => {
    if (e.type !== "group") {
      onEvent(e);
      return;
    }
    void isFeed(ctx, e.conversationId).then(
      (feed) => feed || onEvent(e),
      () => onEvent(e),
    );
  };
}
