/**
 * Cross-origin requests from the relay's other public origins (`--public-origin`): in a cluster
 * whose nodes have names of their own, the web app loaded from one node sends to the others when
 * its node is gone (its queues name that node; RelayHttpClient fails over to the alternates the
 * relay announces in `/v1/limits`). A browser lets the page read those replies only with CORS
 * headers naming its origin. Only the listed origins get them (echoed exactly, `Vary: Origin`),
 * never `*`, and never credentials: the relay has no cookies or sessions to protect. Any other
 * origin gets no CORS header, so its pages still cannot read the relay's replies.
 */
import { POW_HEADER } from "@parley/protocol";
import type { FastifyInstance } from "fastify";
import type { RelayConfig } from "../config.js";

const ALLOWED_METHODS = "GET, POST, PUT, DELETE";
/** The request headers Parley's clients send that are not CORS-safelisted. */
const ALLOWED_HEADERS = `content-type, accept, range, ${POW_HEADER}`;
/** Reply headers clients read beyond the safelisted ones (blob downloads with Range). */
const EXPOSED_HEADERS = "content-range, accept-ranges, content-length";

export function corsRoutes(app: FastifyInstance, config: Pick<RelayConfig, "publicOrigins">): void {
  if (config.publicOrigins.length === 0) return;
  const listed = (origin: string | undefined): origin is string =>
    origin !== undefined && config.publicOrigins.includes(origin);
  app.addHook("onRequest", async (request, reply) => {
    const origin = request.headers.origin;
    if (!request.url.startsWith("/v1/") || !listed(origin)) return;
    reply.header("access-control-allow-origin", origin);
    reply.header("vary", "origin");
    reply.header("access-control-expose-headers", EXPOSED_HEADERS);
  });
  // Preflight: a send (application/octet-stream) or a JSON command is not a "simple" request.
  app.options("/v1/*", async (request, reply) => {
    if (!listed(request.headers.origin)) return reply.code(403).send();
    return reply
      .code(204)
      .header("access-control-allow-methods", ALLOWED_METHODS)
      .header("access-control-allow-headers", ALLOWED_HEADERS)
      .header("access-control-max-age", "600")
      .send();
  });
}
