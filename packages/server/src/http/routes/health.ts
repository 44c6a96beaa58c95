import { PROTOCOL_VERSION } from "@parley/core";
import type { FastifyInstance } from "fastify";

export function healthRoutes(app: FastifyInstance): void {
  app.get("/v1/health", async () => ({ ok: true, protocol: PROTOCOL_VERSION }));
}
