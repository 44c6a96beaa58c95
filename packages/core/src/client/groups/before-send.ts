/**
 * Group upkeep that goes ahead of a message we write: members who marked themselves leaving are
 * removed first (anyone may: messaging/leave-rule.ts), so a leave never waits for an admin to come
 * online — the first member who writes in the group carries it out — and nothing we write reaches
 * a member who asked to go. And a key update, when ours is due (key-schedule.ts).
 */
import { decodeGroupMetadata } from "../../messaging/group-metadata.js";
import { RelayError } from "../../relay-client/errors.js";
import type { ClientContext } from "../context.js";
import { requireGroupConversation } from "../lookup.js";
import { loadState } from "../mls-state.js";
import { commitChange } from "./commit-order.js";
import { keyUpdateDue } from "./key-schedule.js";

export async function beforeGroupSend(ctx: ClientContext, conversationId: string): Promise<void> {
  // Under the lock: a sync meanwhile may read our removal and delete the state between reading the
  // conversation and its state (a send then failed as "corrupt" instead of "not a member").
  const meta = await ctx.lock.run(async () => {
    const conversation = await requireGroupConversation(ctx, conversationId);
    if (conversation.status !== "active") return undefined;
    return decodeGroupMetadata(ctx.engine.metadata(await loadState(ctx, conversation.groupId))) ?? null;
  });
  if (meta === undefined) return;
  // An empty change: the plan adds the removal of whoever is marked leaving (commit-plan.ts).
  const rekey = await keyUpdateDue(ctx, conversationId);
  if (!meta?.leaving?.length && !rekey) return;
  try {
    await commitChange(ctx, conversationId, rekey ? { rekey: true } : {});
  } catch (e) {
    // Out of reach of the relay: the message waits in the outbox, and the removal is sent with
    // the next sync that settles the group.
    if (!(e instanceof RelayError)) throw e;
  }
}
