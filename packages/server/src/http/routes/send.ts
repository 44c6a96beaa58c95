import type { FastifyInstance } from "fastify";
import type { RelayContext } from "../../relay/context.js";
import * as ops from "../../relay/operations.js";
import { releaseRawBody } from "../raw-body.js";
import { binaryBody, parseId } from "../validate.js";

export function sendRoutes(app: FastifyInstance, ctx: RelayContext): void {
  // Fastify refuses a larger body (413 too_large) before reading it all.
  app.post<{ Params: { sendId: string } }>(
    "/v1/send/:sendId",
    {
      bodyLimit: ctx.config.maxMessageBytes,
      // Refused on the headers alone when the answer is already known (no such queue, the queue or
      // the disk full): a client filling its own queue with 8 MiB messages must not make the relay
      // read 8 MiB to say no. The check at the store stays the one that counts.
      onRequest: async (request) => {
        const length = Number(request.headers["content-length"]);
        if (!Number.isSafeInteger(length) || length <= 0) return;
        const sendId = parseId(request.params.sendId, "send id");
        const refusal = await ops.refuseSendEarly(ctx, sendId, length);
        // Not `connection: close`: a client still writing its body would see a broken pipe instead
        // of the answer. Node discards the rest of the body, unbuffered, to keep the connection.
        if (refusal) throw refusal;
      },
    },
    async (request, reply) => {
      try {
        const sendId = parseId(request.params.sendId, "send id");
        return reply.code(202).send(await ops.send(ctx, sendId, binaryBody(request.body)));
      } finally {
        // Stored (the store copies or writes it before `send` resolves) or refused: the buffer
        // can hold the next upload.
        releaseRawBody(request.body);
      }
    },
  );
}
