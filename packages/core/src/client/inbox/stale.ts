/**
 * Stale group messages (docs/protocol.md, "Commit order"). The group queue's order decides: a
 * message counts only if it was made in the epoch the reader is in at that point of the queue, and
 * sits on the group's current queue. Anything else lost a race — a commit of an epoch another commit
 * already took, an application message sealed before a commit that the queue put ahead of it, a
 * message left on the queue the group moved away from — and every member drops it alike, in
 * silence; its sender sees the same from its own echo and sends it again (groups/commit-order.ts).
 *
 * One exception: a `group-leave`. Its sender forgot the group's keys when it sent it and cannot send
 * it again, so it is honoured from any epoch still kept. And one refusal: a message from a device
 * whose key was reset away is a `revoked_device` rejection, whatever its epoch.
 */
import { decodeContent } from "../../content/index.js";
import type { GroupState } from "../../mls/engine.js";
import { privateMessageHeader } from "../../mls/message-header.js";
import type { Batch } from "../../store/batch.js";
import type { GroupConversationRecord } from "../../store/records.js";
import { b64 } from "../../store/repository.js";
import type { ClientContext } from "../context.js";
import { saveState } from "../mls-state.js";
import { checkKeyReset } from "../reset/received.js";
import { groupLeave } from "./handlers/group-leave.js";
import { nothing, type Processed } from "./types.js";

/** Whether a message of `epoch` read from `queueId` is stale at `state` (see above). */
export function isStale(
  conversation: GroupConversationRecord,
  state: GroupState,
  epoch: bigint,
  queueId: string | undefined,
): boolean {
  return epoch < state.epoch || (queueId !== undefined && queueId !== conversation.receive.queueId);
}

/**
 * Undefined for a message to process as usual; otherwise what became of a stale one (dropped, or
 * a leave honoured). `queueId`: the queue it was read from, when known.
 */
export async function staleGroupMessage(
  ctx: ClientContext,
  batch: Batch,
  conversation: GroupConversationRecord,
  state: GroupState,
  message: Uint8Array,
  queueId: string | undefined,
): Promise<Processed | undefined> {
  const header = privateMessageHeader(message);
  if (!header || header.epoch > state.epoch) return undefined; // not ours to judge: MLS decides
  if (!isStale(conversation, state, header.epoch, queueId)) return undefined;
  if (header.contentType !== "application") return nothing();
  let result: Awaited<ReturnType<typeof ctx.engine.process>>;
  try {
    result = await ctx.engine.process(state, message, ctx.policy);
  } catch {
    return nothing(); // an epoch no longer kept: nothing to honour
  }
  if (result.kind !== "application") return nothing();
  // Saved: the key it used is erased in the store too (forward secrecy), and the state that used it
  // goes on being the live one (store/live-states.ts; not saving it made the next message decode
  // the whole state again, in a large group after each stale message).
  saveState(ctx, batch, conversation.groupId, result.state);
  // A device that was reset away (a copy of a compromised profile still sealing in an old epoch)
  // is refused with its reason, not dropped in silence like a lost race (threat-model.md, reset).
  await checkKeyReset(ctx, batch, conversation, result);
  const { id, sentAt, body } = decodeContent(result.plaintext);
  if (body.type !== "group-leave") return nothing();
  return groupLeave.group!({
    ctx,
    batch,
    conversation,
    state: result.state,
    sender: b64(result.sender.identityKey),
    content: { id, sentAt },
    body,
  });
}
