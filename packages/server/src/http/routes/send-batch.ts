import { splitSendBatch } from "@parley/protocol";
import type { FastifyInstance } from "fastify";
import { badRequest } from "../../problem.js";
import type { RelayContext } from "../../relay/context.js";
import * as ops from "../../relay/operations.js";
import { releaseRawBody } from "../raw-body.js";
import { binaryBody } from "../validate.js";

/**
 * `POST /v1/send-batch`: several envelopes in one request (protocol SendBatchHead), stored in order
 * as single sends would be. A client's outbox sends what queued up meanwhile in one request instead
 * of one each (issue 14). The whole body is at most one message's limit.
 */
export function sendBatchRoutes(app: FastifyInstance, ctx: RelayContext): void {
  app.post("/v1/send-batch", { bodyLimit: ctx.config.maxMessageBytes }, async (request, reply) => {
    try {
      const messages = splitSendBatch(binaryBody(request.body));
      if (!messages) throw badRequest("invalid batch: the head does not describe the envelopes that follow");
      return reply.code(202).send(await ops.sendBatch(ctx, messages));
    } finally {
      releaseRawBody(request.body);
    }
  });
}
