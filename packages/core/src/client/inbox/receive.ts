/**
 * One delivery from a relay queue: deduplicated by (queue, msgId), routed to the invite, the
 * conversation, the group link or the group join request the queue belongs to, processed, and stored with its "seen" mark in one batch.
 * Throws only on local failures (the delivery is then not acknowledged and comes again).
 */
import { toHex } from "../../encoding/bytes.js";
import { MlsFutureEpochError } from "../../mls/engine.js";
import { unpad } from "../../protocol/padding.js";
import type { QueueCredentials } from "../../relay-client/signing.js";
import type { Batch } from "../../store/batch.js";
import type { QueueRoute } from "../../store/records.js";
import type { ClientContext } from "../context.js";
import { receiveJoinAnswer } from "../group-links/answer.js";
import { receiveJoinRequest } from "../group-links/requests.js";
import { ownGroupEcho } from "../groups/own-echo.js";
import { processInConversation } from "./conversation.js";
import { hold } from "./held.js";
import { reject, rejectionOf } from "./rejection.js";
import type { Processed } from "./types.js";
import { acceptWelcome } from "./welcome.js";

export const isBroadcast = (q: QueueCredentials): boolean =>
  (q as { broadcast?: boolean }).broadcast === true;

export async function receiveOne(
  ctx: ClientContext,
  queue: QueueCredentials,
  msgId: string,
  body: Uint8Array,
): Promise<Processed> {
  const { repo } = ctx;
  return ctx.lock.run(async () => {
    const cursorWrite = (b: Batch) => (isBroadcast(queue) ? repo.putCursor(b, queue.queueId, msgId) : b);
    if (await repo.seen(queue.queueId, msgId)) {
      await repo.commit(cursorWrite(repo.batch()));
      return { events: [], followups: [] };
    }
    const work = repo.batch();
    let result: Processed;
    let payload: Uint8Array | undefined;
    let route: QueueRoute | undefined;
    try {
      payload = unpad(body);
      route = await repo.route(queue.queueId);
      if (!route) return reject({ reason: "unknown_queue" });
      if (route.kind === "conversation") {
        // The same MLS message again under another relay msgId: a sender's outbox retry whose
        // first try had reached the relay, or our own group message echoed. Skipped in silence
        // (MLS would refuse it as a used generation, which reads like tampering).
        const digest = toHex(await ctx.crypto.sha256(payload));
        if (await repo.payloadSeen(route.conversationId, digest)) {
          // Our own group message: where the queue put it tells whether it counts (commit-order.ts).
          const echo = await ownGroupEcho(ctx, work, route.conversationId, queue.queueId, msgId, digest);
          await repo.commit(cursorWrite(repo.markSeen(work, queue.queueId, msgId)));
          if (echo.saved) repo.groupStateSaved(echo.saved.groupId, echo.saved.epoch);
          return echo;
        }
        repo.markPayloadSeen(work, route.conversationId, digest);
      }
      result =
        route.kind === "invite"
          ? await acceptWelcome(ctx, work, route.queueId, payload)
          : route.kind === "group-link"
            ? await receiveJoinRequest(ctx, work, route.conversationId, payload)
            : route.kind === "group-join"
              ? await receiveJoinAnswer(ctx, work, route.queueId, payload)
              : await processInConversation(ctx, work, route.conversationId, payload, queue.queueId);
    } catch (e) {
      if (e instanceof MlsFutureEpochError && route?.kind === "conversation" && payload) {
        work.clear();
        result = await hold(ctx, work, route.conversationId, queue.queueId, msgId, payload);
        await repo.commit(cursorWrite(repo.markSeen(work, queue.queueId, msgId)));
        return result;
      }
      const rejection = rejectionOf(e);
      if (!rejection) throw e; // a local failure: leave unacknowledged, retry later
      // The message is dropped and the MLS state stays as it was: only the "seen" mark is stored.
      work.clear();
      result = { events: [{ type: "rejected", ...rejection }], followups: [] };
    }
    await repo.commit(cursorWrite(repo.markSeen(work, queue.queueId, msgId)));
    if (result.saved) repo.groupStateSaved(result.saved.groupId, result.saved.epoch);
    return result;
  });
}
