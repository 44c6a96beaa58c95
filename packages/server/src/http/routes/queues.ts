import { CreateQueueRequest, type FetchResponse, RecipientCommand } from "@parley/core";
import type { FastifyInstance } from "fastify";
import { toB64u } from "../../bytes.js";
import { badRequest } from "../../problem.js";
import type { RelayContext } from "../../relay/context.js";
import * as ops from "../../relay/operations.js";
import { parseWith } from "../validate.js";

/** Signed JSON bodies are a few hundred bytes. */
const JSON_BODY_LIMIT = 4 * 1024;

export function queueRoutes(app: FastifyInstance, ctx: RelayContext): void {
  app.post("/v1/queues", { bodyLimit: JSON_BODY_LIMIT }, async (request, reply) => {
    const req = parseWith(CreateQueueRequest, request.body, "create-queue request");
    return reply.code(201).send(await ops.createQueue(ctx, req));
  });

  app.post("/v1/queues/command", { bodyLimit: JSON_BODY_LIMIT }, async (request, reply) => {
    const cmd = parseWith(RecipientCommand, request.body, "command");
    if (cmd.cmd === "sub") throw badRequest("sub works over the WebSocket (/v1/ws) only");
    const queue = await ops.authorizeCommand(ctx, cmd);
    switch (cmd.cmd) {
      case "fetch": {
        const { messages, cursorFound } = await ops.fetchPending(ctx, queue.queueId, cmd.msgId);
        const response: FetchResponse = {
          messages: messages.map((m) => ({ msgId: m.msgId, body: toB64u(m.body) })),
        };
        if (cursorFound !== undefined) response.cursorFound = cursorFound;
        return reply.send(response);
      }
      case "ack":
        await ops.ack(ctx, queue.queueId, cmd.msgId!);
        return reply.send({ ok: true });
      case "del":
        await ops.deleteQueue(ctx, queue.queueId);
        return reply.send({ ok: true });
    }
  });
}
