/** A group's shared queue: publishing to it, moving it, and meeting again when it vanished. */
import type { GroupQueue } from "../../content/index.js";
import { pad } from "../../protocol/padding.js";
import { RelayError } from "../../relay-client/errors.js";
import type { QueueCredentials } from "../../relay-client/signing.js";
import type { GroupConversationRecord } from "../../store/records.js";
import { unb64 } from "../../store/repository.js";
import type { ClientContext } from "../context.js";
import type { ClientEvent } from "../events.js";
import { conversationReceivingOn } from "../lookup.js";
import { loadState } from "../mls-state.js";

/** The MLS exporter label of a group's rendezvous queue (see meetOnRendezvousLocked). */
const RENDEZVOUS_LABEL = "parley group rendezvous queue";

/** Deposits messages into a group's queue, in order. */
export async function publishToGroup(
  ctx: ClientContext,
  conversation: GroupConversationRecord,
  messages: Uint8Array[],
  /** `synced: false`: what the messages depend on is on disk already (RelayHttpClient SendOptions). */
  options: { rescue?: boolean; synced?: boolean } = {},
): Promise<string | undefined> {
  let target = conversation;
  for (let attempt = 0; ; attempt++) {
    const relay = ctx.relay(target.receive.relay);
    let last: string | undefined;
    try {
      for (const m of messages) {
        // Not marked seen: its echo tells where the queue put it (commit-order.ts, own-echo.ts).
        last = await relay.send(target.receive.sendId, pad(m), { synced: options.synced !== false });
      }
      return last;
    } catch (e) {
      if (!(options.rescue && attempt === 0 && e instanceof RelayError && e.code === "unknown_queue"))
        throw e;
      const moved = await meetOnRendezvousLocked(ctx, target.receive);
      if (!moved) throw e;
      target = moved.conversation;
    }
  }
}

/** The record of a group that moved to `queue`; the last queue is still read for stragglers. */
export function moveGroupQueue(
  conversation: GroupConversationRecord,
  queue: GroupQueue,
): GroupConversationRecord {
  return {
    ...conversation,
    receive: queue,
    sendTo: { relay: queue.relay, sendId: queue.sendId },
    // Keep reading the last queue for members who sent before they saw the move.
    previousQueues: [conversation.receive],
  };
}

/**
 * The group's queue vanished from the relay (nobody used it for the TTL, or the relay lost it). The
 * members cannot tell each other where to go next — that needs a queue — so each derives the same
 * one: a rendezvous queue whose key is MLS-Exporter("parley group rendezvous queue", groupId, 32)
 * of the current epoch, and whose ids the relay computes from that key. Whoever comes back first
 * creates it; everyone after finds it. Only members of this epoch can derive it: removed members
 * cannot follow. Call with the profile lock held.
 */
export async function meetOnRendezvousLocked(
  ctx: ClientContext,
  vanished: QueueCredentials,
): Promise<{ conversation: GroupConversationRecord; event: ClientEvent } | undefined> {
  const conversation = await conversationReceivingOn(ctx, vanished.queueId);
  if (conversation?.kind !== "group" || conversation.status !== "active") return undefined;
  const state = await loadState(ctx, conversation.groupId);
  const seed = await ctx.engine.exportSecret(state, RENDEZVOUS_LABEL, unb64(conversation.groupId), 32);
  const queue = (await ctx.relay(vanished.relay).createQueue({ rendezvousSeed: seed })) as GroupQueue;
  seed.fill(0);
  // The same id: this rendezvous queue itself had vanished and is now there again, empty.
  const updated = queue.queueId === vanished.queueId ? conversation : moveGroupQueue(conversation, queue);
  const batch = ctx.repo.batch();
  ctx.repo.putConversation(batch, updated);
  ctx.repo.putRoute(batch, queue.queueId, { kind: "conversation", conversationId: conversation.id });
  ctx.repo.deleteCursor(batch, vanished.queueId);
  await ctx.repo.commit(batch);
  return {
    conversation: updated,
    event: { type: "warning", code: "queue_renewed", conversationId: conversation.id, kind: "group" },
  };
}
