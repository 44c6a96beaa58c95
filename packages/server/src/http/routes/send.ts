import type { FastifyInstance } from "fastify";
import type { RelayContext } from "../../relay/context.js";
import * as ops from "../../relay/operations.js";
import { binaryBody, parseId } from "../validate.js";

export function sendRoutes(app: FastifyInstance, ctx: RelayContext): void {
  // Fastify refuses a larger body (413 too_large) before reading it all.
  app.post<{ Params: { sendId: string } }>(
    "/v1/send/:sendId",
    { bodyLimit: ctx.config.maxMessageBytes },
    async (request, reply) => {
      const sendId = parseId(request.params.sendId, "send id");
      return reply.code(202).send(await ops.send(ctx, sendId, binaryBody(request.body)));
    },
  );
}
