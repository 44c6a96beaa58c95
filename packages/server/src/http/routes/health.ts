import { PROTOCOL_VERSION } from "@parley/protocol";
import type { FastifyInstance } from "fastify";
import type { RelayContext } from "../../relay/context.js";

export function healthRoutes(app: FastifyInstance, ctx: RelayContext): void {
  app.get("/v1/health", async () => ({ ok: true, protocol: PROTOCOL_VERSION }));
  // The proof of work queue and invite creation need: `{bits: 0}` when none, else bits and a
  // fresh challenge (the same as a `pow_required` refusal carries).
  app.get("/v1/pow", async () => ctx.pow.params());
}
