import { CreateQueueRequest, FETCH_BINARY_TYPE, POW_HEADER, RecipientCommand } from "@parley/protocol";
import type { FastifyInstance } from "fastify";
import { badRequest } from "../../problem.js";
import type { BodyPool } from "../../relay/body-pool.js";
import type { ByteBudget } from "../../relay/byte-budget.js";
import type { RelayContext } from "../../relay/context.js";
import * as ops from "../../relay/operations.js";
import type { TurnPacer } from "../../relay/turn-pacer.js";
import { fetchReply } from "../encode.js";
import { parseWith } from "../validate.js";

/** The Parley-Pow header, if given once. */
export const powHeader = (headers: Record<string, string | string[] | undefined>): string | undefined => {
  const value = headers[POW_HEADER];
  return typeof value === "string" ? value : undefined;
};

/** Signed JSON bodies are a few hundred bytes. */
const JSON_BODY_LIMIT = 4 * 1024;

/**
 * `replies` bounds the message bytes of fetch replies in flight across all clients: a fetch leases
 * the most one fetch can return before reading the store, keeps only what it read, and gives that
 * back when its reply has been written (or the connection dropped). Large bodies are read into
 * buffers of `bodies`, which go back to it at the same moment (see relay/body-pool.ts for why).
 */
export function queueRoutes(
  app: FastifyInstance,
  ctx: RelayContext,
  replies: ByteBudget,
  pacer: TurnPacer,
  bodies: BodyPool,
): void {
  app.post("/v1/queues", { bodyLimit: JSON_BODY_LIMIT }, async (request, reply) => {
    const req = parseWith(CreateQueueRequest, request.body, "create-queue request");
    return reply.code(201).send(await ops.createQueue(ctx, req, powHeader(request.headers)));
  });

  app.post("/v1/queues/command", { bodyLimit: JSON_BODY_LIMIT }, async (request, reply) => {
    const cmd = parseWith(RecipientCommand, request.body, "command");
    if (cmd.cmd === "sub") throw badRequest("sub works over the WebSocket (/v1/ws) only");
    const queue = await ops.authorizeCommand(ctx, cmd);
    switch (cmd.cmd) {
      case "fetch": {
        const lease = await replies.acquire(ops.fetchReserveBytes(ctx), { waitMs: ctx.config.replyWaitMs });
        const buffers = bodies.borrower();
        const done = () => {
          buffers.giveBack();
          lease.release();
        };
        try {
          const { messages, cursorFound } = await ops.fetchPending(ctx, queue.queueId, cmd.msgId, buffers);
          lease.shrink(ops.bodyBytes(messages));
          const { length, stream } = fetchReply(messages, cursorFound, pacer);
          // 'close' comes once the reply has been handed to the kernel or the connection is gone,
          // whichever is first: only then may the buffers it was sent from be reused.
          reply.raw.once("close", done);
          if (reply.raw.destroyed) done();
          return reply.type(FETCH_BINARY_TYPE).header("content-length", length).send(stream);
        } catch (e) {
          done();
          throw e;
        }
      }
      case "ack": {
        if (cmd.msgIds !== undefined) {
          const { unknown } = await ops.ackBatch(ctx, queue.queueId, cmd.msgIds);
          return reply.send(unknown.length > 0 ? { ok: true, unknown } : { ok: true });
        }
        await ops.ack(ctx, { ...cmd, queueId: queue.queueId, msgId: cmd.msgId! });
        return reply.send({ ok: true });
      }
      case "del":
        await ops.deleteQueue(ctx, queue.queueId);
        return reply.send({ ok: true });
    }
  });
}
