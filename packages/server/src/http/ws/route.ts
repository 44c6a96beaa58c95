import websocket from "@fastify/websocket";
import type { FastifyInstance } from "fastify";
import type { RelayConfig } from "../../config.js";
import { badRequest, Problem } from "../../problem.js";
import type { ByteBudget } from "../../relay/byte-budget.js";
import type { RelayContext } from "../../relay/context.js";
import { sendProblem } from "../errors.js";
import { safeError } from "../logging.js";
import { HARD_MAX_FRAME_BYTES, SocketSession } from "./session.js";

export const WS_ROUTE = "/v1/ws";

/**
 * May a WebSocket be opened with this Origin header? Yes without one (the CLI and other programs
 * send none), for the relay's own origin (the web app it serves: the Origin's host is the Host the
 * browser is talking to; the scheme is not compared, a TLS proxy may sit in front), and for the
 * configured public and allowed origins. Every other web page is refused, so a page elsewhere
 * cannot use a visitor's browser to talk to the relay.
 */
export function originAllowed(
  origin: string | undefined,
  host: string | undefined,
  config: Pick<RelayConfig, "allowedOrigins" | "publicOrigins">,
): boolean {
  if (origin === undefined) return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return false;
  if (config.allowedOrigins.includes(url.origin) || config.publicOrigins.includes(url.origin)) return true;
  if (host === undefined) return false;
  try {
    return new URL(`${url.protocol}//${host}`).host === url.host;
  } catch {
    return false;
  }
}

/**
 * Refuses WebSocket upgrades anywhere but /v1/ws, for every route including unknown ones (the
 * plugin would log such a request's full URL, and an unanswered upgrade socket would stall
 * shutdown), and upgrades from web pages of other origins (403). Installed on the root instance.
 */
export function guardUpgrades(
  app: FastifyInstance,
  config: Pick<RelayConfig, "allowedOrigins" | "publicOrigins">,
): void {
  app.addHook("onRequest", async (request, reply) => {
    if (request.headers.upgrade === undefined) return;
    let problem: Problem | undefined;
    if (request.routeOptions.url !== WS_ROUTE) {
      problem = badRequest("WebSocket connections are accepted on /v1/ws only");
    } else if (!originAllowed(request.headers.origin, request.headers.host, config)) {
      problem = new Problem("forbidden", "WebSocket connections from this web origin are not accepted");
    }
    if (!problem) return;
    reply.raw.once("finish", () => request.raw.socket?.destroy());
    return sendProblem(reply, problem);
  });
}

/** Registers @fastify/websocket and `GET /v1/ws`. Must be registered before the route exists. */
export async function wsRoutes(
  app: FastifyInstance,
  ctx: RelayContext,
  sessions: Set<SocketSession>,
  replies: ByteBudget,
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
        const session = new SocketSession(socket, ctx, request.log, replies);
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
