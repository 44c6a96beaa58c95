/**
 * Gap detection: each sender device's application messages count 0, 1, 2… per epoch inside the
 * encryption (the MLS generation), so a relay that drops a message leaves a jump that this device
 * sees when the next one arrives. A message that arrives late (lower generation) fills its gap
 * silently. The first message seen from a device sets the mark without a warning.
 */
import type { IncomingMessage } from "../../mls/engine.js";
import type { Batch } from "../../store/batch.js";
import type { ConversationRecord } from "../../store/records.js";
import { b64 } from "../../store/repository.js";
import type { ClientContext } from "../context.js";
import type { ClientEvent } from "../events.js";
import { person } from "../lookup.js";

export async function noteRatchetPosition(
  ctx: ClientContext,
  batch: Batch,
  conversation: ConversationRecord,
  result: Extract<IncomingMessage, { kind: "application" }>,
): Promise<ClientEvent | undefined> {
  const device = b64(result.sender.deviceKey);
  const leaf = result.sender.leafIndex;
  const stored = await ctx.repo.ratchetMark(conversation.id, leaf);
  // A mark of another device at this leaf (a member removed, another added there) is no mark.
  const seen = stored?.deviceKey === device ? stored : undefined;
  const seenEpoch = seen ? BigInt(seen.epoch) : undefined;
  let missing = 0;
  if (seen && seenEpoch === result.epoch) {
    missing = Math.max(0, result.generation - seen.generation - 1);
    if (result.generation <= seen.generation) return undefined; // late, or the same: no new mark
  } else if (seenEpoch !== undefined && result.epoch < seenEpoch) {
    return undefined; // a late message of an earlier epoch
  } else if (seenEpoch !== undefined) {
    missing = result.generation; // a new epoch: its first messages should have come first
  }
  ctx.repo.putRatchetMark(batch, conversation.id, leaf, {
    deviceKey: device,
    epoch: result.epoch.toString(),
    generation: result.generation,
  });
  if (missing === 0) return undefined;
  return {
    type: "warning",
    code: "messages_missing",
    conversationId: conversation.id,
    count: missing,
    sender: await person(ctx, conversation.id, b64(result.sender.identityKey)),
  };
}
