import { INVITE_MAX_BYTES } from "@parley/protocol";
import type { FastifyInstance } from "fastify";
import { asBuffer } from "../../bytes.js";
import type { RelayContext } from "../../relay/context.js";
import * as ops from "../../relay/operations.js";
import { binaryBody, parseId } from "../validate.js";
import { powHeader } from "./queues.js";

export function inviteRoutes(app: FastifyInstance, ctx: RelayContext): void {
  app.post("/v1/invites", { bodyLimit: INVITE_MAX_BYTES }, async (request, reply) => {
    return reply
      .code(201)
      .send(await ops.createInvite(ctx, binaryBody(request.body), powHeader(request.headers)));
  });

  // Peek leaves the invite in place, so a mistyped key in a link does not use the invite up; claim
  // takes it. Both carry no body: a small limit keeps anyone from sending one anyway.
  const readers = { peek: ops.peekInvite, claim: ops.claimInvite } as const;
  for (const [action, read] of Object.entries(readers)) {
    app.post<{ Params: { inviteId: string } }>(
      `/v1/invites/:inviteId/${action}`,
      { bodyLimit: 1024 },
      async (request, reply) => {
        const blob = await read(ctx, parseId(request.params.inviteId, "invite id"));
        return reply
          .code(200)
          .header("cache-control", "no-store")
          .type("application/octet-stream")
          .send(asBuffer(blob));
      },
    );
  }
}
