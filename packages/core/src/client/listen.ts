/**
 * Live delivery: stays connected to every relay this device reads from and reports events as they
 * happen, until `signal` aborts. Reconnects by itself; picks up queues created meanwhile (even by
 * another process) with a rescan every second.
 */
import { ParleyError } from "../errors.js";
import { RelayError } from "../relay-client/errors.js";
import { RelaySocket } from "../relay-client/relay-socket.js";
import type { ClientContext } from "./context.js";
import type { ClientEvent } from "./events.js";
import { runFollowups } from "./followups/run.js";
import type { Followup } from "./followups/types.js";
import { resumeCommits } from "./groups/commit-order.js";
import { isBroadcast, receiveOne } from "./inbox/receive.js";
import { deliverOutbox, outboxDue } from "./outbox-delivery.js";
import { receiveQueues } from "./sync.js";

const RESCAN_MS = 1000;
/**
 * Delivery receipts go this long after the first message they confirm, for every message handled
 * meanwhile: one sealed receipt (and one relay request, one wait for durability) for a burst,
 * instead of one per message, which held each next message behind a round trip (issue 14).
 */
const RECEIPT_DELAY_MS = 100;
/** Without any socket, the relay is asked whether it answers every this many rescans. */
const PROBE_EVERY_TICKS = 5;

export async function listen(
  ctx: ClientContext,
  onEvent: (event: ClientEvent) => void,
  signal: AbortSignal,
): Promise<void> {
  const webSocket = ctx.webSocket;
  if (!webSocket) throw new ParleyError("no_websocket", {});
  const sockets = new Map<string, RelaySocket>();
  let opened = () => {};
  let receipts: Followup[] = [];
  let receiptTimer: ReturnType<typeof setTimeout> | undefined;
  let sendingReceipts: Promise<void> = Promise.resolve();
  const sendReceipts = () => {
    receiptTimer = undefined;
    const items = receipts;
    receipts = [];
    if (items.length === 0) return;
    sendingReceipts = sendingReceipts.then(() =>
      runFollowups(ctx, items).then(
        (more) => {
          for (const e of more) onEvent(e);
        },
        (e: Error) => onEvent({ type: "failure", source: "local", cause: e.message }),
      ),
    );
  };
  const known = new Set<string>();
  const attach = async () => {
    for (const queue of await receiveQueues(ctx)) {
      if (known.has(queue.queueId)) continue;
      known.add(queue.queueId);
      let socket = sockets.get(queue.relay);
      if (!socket) {
        socket = new RelaySocket(queue.relay, ctx.crypto, {
          webSocket,
          alternates: ctx.alternatesOf(queue.relay),
          cursorFor: (q) => (isBroadcast(q) ? ctx.repo.cursor(q.queueId) : Promise.resolve(undefined)),
          beforeAck: () => ctx.repo.kv.durable(),
          onMessage: async (q, msgId, body) => {
            const r = await receiveOne(ctx, q, msgId, body);
            for (const e of r.events) onEvent(e);
            const later = r.followups.filter((f) => f.kind === "receipt");
            if (later.length) {
              receipts.push(...later);
              receiptTimer ??= setTimeout(sendReceipts, RECEIPT_DELAY_MS);
            }
            // Follow-ups report their own failures as warnings; anything else they throw is a
            // local failure, not a message that was dropped.
            await runFollowups(
              ctx,
              r.followups.filter((f) => f.kind !== "receipt"),
            ).then(
              (more) => {
                for (const e of more) onEvent(e);
              },
              (e: Error) => onEvent({ type: "failure", source: "local", cause: e.message }),
            );
            // New queues come with follow-ups such as KeyPackages or a group joined, never with a
            // receipt (every text message asks for one: looking again after each cost 4 reads).
            if (r.followups.some((f) => f.kind !== "receipt") || r.events.some((e) => e.type === "group"))
              await attach();
          },
          onStatus: (status, detail) => {
            onEvent(detail === undefined ? { type: "status", status } : { type: "status", status, detail });
            if (status === "open") opened();
          },
          // A delivery this device could not handle (it comes again) or a relay complaint: a
          // failure, never a "rejected" message.
          onError: (error) =>
            onEvent({
              type: "failure",
              source: error instanceof RelayError ? "relay" : "local",
              cause: error.message,
            }),
        });
        sockets.set(queue.relay, socket);
        socket.start([queue]);
      } else {
        await socket.addQueue(queue);
      }
    }
  };
  // The outbox: due entries every rescan, every entry at once when a relay connection opens.
  let delivering: Promise<void> | undefined;
  const deliver = (now: boolean) => {
    delivering ??= (async () => {
      if (now || (await outboxDue(ctx)))
        for (const e of (await deliverOutbox(ctx, { now })).events) onEvent(e);
      // Back in touch with the relay: a change of ours cut short while it was away carries on
      // (commit-order.ts; sync does the same). A copy sent again before its echo is read is
      // dropped by all as stale.
      if (now) for (const e of await resumeCommits(ctx)) onEvent(e);
    })()
      .catch((e: Error) => onEvent({ type: "failure", source: "local", cause: e.message }))
      .finally(() => {
        delivering = undefined;
      });
    return delivering;
  };
  opened = () => void deliver(true);
  // A device with no queue yet (a new profile, no contact) has no socket to report a status: it
  // asks its relay whether it answers, so the app can say "Connected" or "Offline" all the same.
  let probed: boolean | undefined;
  let ticks = 0;
  const probe = async () => {
    if (sockets.size > 0) return;
    const profile = await ctx.repo.profile();
    if (!profile) return;
    const up = (await ctx.relay(profile.relay).probe()) === "ok";
    if (sockets.size > 0 || up === probed) return;
    probed = up;
    onEvent(
      up
        ? { type: "status", status: "open" }
        : { type: "status", status: "connecting", detail: "relay unreachable" },
    );
  };
  await attach();
  await probe();
  // What a send that did not wait for the relay comes to ("sent", "send_failed").
  ctx.listeners.add(onEvent);
  const rescan = setInterval(() => {
    attach().catch((e: Error) => onEvent({ type: "failure", source: "local", cause: e.message }));
    void deliver(false);
    if (++ticks % PROBE_EVERY_TICKS === 0) void probe().catch(() => {});
  }, RESCAN_MS);
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    signal.addEventListener("abort", () => resolve(), { once: true });
  });
  clearInterval(rescan);
  ctx.listeners.delete(onEvent);
  await delivering;
  for (const s of sockets.values()) {
    await s.idle();
    s.close();
  }
  // What was handled is confirmed before listening ends.
  if (receiptTimer) clearTimeout(receiptTimer);
  sendReceipts();
  await sendingReceipts;
}
