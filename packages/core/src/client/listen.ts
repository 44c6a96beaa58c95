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
import { isBroadcast, receiveOne } from "./inbox/receive.js";
import { receiveQueues } from "./sync.js";

const RESCAN_MS = 1000;

export async function listen(
  ctx: ClientContext,
  onEvent: (event: ClientEvent) => void,
  signal: AbortSignal,
): Promise<void> {
  const webSocket = ctx.webSocket;
  if (!webSocket) throw new ParleyError("no_websocket", {});
  const sockets = new Map<string, RelaySocket>();
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
          onMessage: async (q, msgId, body) => {
            const r = await receiveOne(ctx, q, msgId, body);
            for (const e of r.events) onEvent(e);
            // Follow-ups report their own failures as warnings; anything else they throw is a
            // local failure, not a message that was dropped.
            await runFollowups(ctx, r.followups).then(
              (more) => {
                for (const e of more) onEvent(e);
              },
              (e: Error) => onEvent({ type: "failure", source: "local", cause: e.message }),
            );
            if (r.followups.length || r.events.some((e) => e.type === "group")) await attach();
          },
          onStatus: (status, detail) =>
            onEvent(detail === undefined ? { type: "status", status } : { type: "status", status, detail }),
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
  await attach();
  const rescan = setInterval(
    () => attach().catch((e: Error) => onEvent({ type: "failure", source: "local", cause: e.message })),
    RESCAN_MS,
  );
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    signal.addEventListener("abort", () => resolve(), { once: true });
  });
  clearInterval(rescan);
  for (const s of sockets.values()) {
    await s.idle();
    s.close();
  }
}
