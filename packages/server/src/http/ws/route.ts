import websocket from "@fastify/websocket";
import type { FastifyInstance } from "fastify";
import { badRequest } from "../../problem.js";
import type { RelayContext } from "../../relay/context.js";
import { sendProblem } from "../errors.js";
import { safeError } from "../logging.js";
import { HARD_MAX_FRAME_BYTES, SocketSession } from "./session.js";

export const WS_ROUTE = "/v1/ws";

/**
 * Refuses WebSocket upgrades anywhere but /v1/ws, for every route including unknown ones (the
 * plugin would log such a request's full URL, and an unanswered upgrade socket would stall
 * shutdown). Installed on the root instance.
 */
export function guardUpgrades(app: FastifyInstance): void {
  app.addHook("onRequest", async (request, reply) => {
    if (request.headers.upgrade === undefined || request.routeOptions.url === WS_ROUTE) return;
    reply.raw.once("finish", () => request.raw.socket?.destroy());
    return sendProblem(reply, badRequest("WebSocket connections are accepted on /v1/ws only"));
  });
}

/** Registers @fastify/websocket and `GET /v1/ws`. Must be registered before the route exists. */
export async function wsRoutes(
  app: FastifyInstance,
  ctx: RelayContext,
  sessions: Set<SocketSession>,
): Promise<void> {
  await app.register(websocket, {
    options: { maxPayload: HARD_MAX_FRAME_BYTES },
    // Socket-level errors (a client vanishing mid-frame, a frame over the hard limit): drop the
    // connection, log only the kind of error.
    errorHandler(error, socket) {
      ctx.log.warn(
        { route: WS_ROUTE, code: (error as { code?: string }).code ?? error.name },
        "websocket dropped",
      );
      socket.terminate();
    },
  });

  app.route({
    method: "GET",
    url: WS_ROUTE,
    handler: async (_request, reply) =>
      sendProblem(reply, badRequest("this endpoint needs a WebSocket upgrade")),
    wsHandler: (socket, request) => {
      try {
        const session = new SocketSession(socket, ctx, request.log);
        sessions.add(session);
        const opened = performance.now();
        socket.on("close", (code) => {
          sessions.delete(session);
          // Like an HTTP request line: how long, how it ended; nothing about whom or which queues.
          request.log.info(
            {
              method: "GET",
              route: WS_ROUTE,
              status: 101,
              ms: Math.round(performance.now() - opened),
              closeCode: code,
            },
            "websocket closed",
          );
        });
      } catch (e) {
        ctx.log.error({ route: WS_ROUTE, err: safeError(e) }, "websocket setup failed");
        socket.terminate();
      }
    },
  });
}
