import { BLOB_CAP_HEADER, CreateBlobRequest } from "@parley/protocol";
import type { FastifyInstance } from "fastify";
import { badRequest } from "../../problem.js";
import * as blobs from "../../relay/blobs.js";
import type { RelayContext } from "../../relay/context.js";
import { parseId, parseWith } from "../validate.js";
import { powHeader } from "./queues.js";

const header = (headers: Record<string, string | string[] | undefined>, name: string): string | undefined => {
  const value = headers[name];
  return typeof value === "string" ? value : undefined;
};

/** `?offset=N`: a whole number written plainly (no sign, exponent or leading zeros). */
function parseOffset(value: unknown): number {
  if (typeof value !== "string" || !/^(0|[1-9]\d{0,15})$/.test(value)) {
    throw badRequest("a blob write needs ?offset=N, a whole number of bytes");
  }
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw badRequest("the offset is too large");
  return n;
}

/** One `bytes=START-` or `bytes=START-END` range (END inclusive, as HTTP has it); else undefined. */
function parseRange(value: string | undefined): { start: number; end?: number } | undefined {
  if (value === undefined) return undefined;
  const m = /^bytes=(\d{1,16})-(\d{0,16})$/.exec(value.trim());
  if (!m) throw badRequest("only one byte range is served: Range: bytes=START- or bytes=START-END");
  const start = Number(m[1]);
  if (m[2] === "") return { start };
  const last = Number(m[2]);
  if (last < start) throw badRequest("the range ends before it starts");
  return { start, end: last + 1 };
}

/**
 * The blob endpoints (docs/protocol.md, "Blobs"). Writes are streamed to the blob store as they
 * arrive (a scope of their own takes octet-stream bodies unparsed), never held whole in memory.
 */
export async function blobRoutes(app: FastifyInstance, ctx: RelayContext): Promise<void> {
  app.get("/v1/limits", async () => blobs.limits(ctx));

  app.post("/v1/blobs", { bodyLimit: 1024 }, async (request, reply) => {
    const req = parseWith(CreateBlobRequest, request.body, "create-blob request");
    return reply.code(201).send(await blobs.createBlob(ctx, req.size, powHeader(request.headers)));
  });

  app.get<{ Params: { blobId: string } }>("/v1/blobs/:blobId/status", async (request) =>
    blobs.blobStatus(ctx, parseId(request.params.blobId, "blob id")),
  );

  app.get<{ Params: { blobId: string } }>("/v1/blobs/:blobId", async (request, reply) => {
    const range = parseRange(header(request.headers, "range"));
    const read = await blobs.readBlob(ctx, parseId(request.params.blobId, "blob id"), range);
    reply
      .code(range ? 206 : 200)
      .type("application/octet-stream")
      .header("content-length", read.end - read.start)
      .header("accept-ranges", "bytes");
    if (range) reply.header("content-range", `bytes ${read.start}-${read.end - 1}/${read.size}`);
    return reply.send(read.stream());
  });

  app.delete<{ Params: { blobId: string } }>("/v1/blobs/:blobId", { bodyLimit: 1024 }, async (request) => {
    await blobs.deleteBlob(
      ctx,
      parseId(request.params.blobId, "blob id"),
      header(request.headers, BLOB_CAP_HEADER),
    );
    return { ok: true };
  });

  await app.register(async (scope) => {
    // Writes stream: the body reaches the handler unread, and is checked before a byte is stored.
    scope.removeContentTypeParser("application/octet-stream");
    scope.addContentTypeParser("application/octet-stream", (_request, payload, done) => done(null, payload));
    scope.put<{ Params: { blobId: string }; Querystring: { offset?: unknown } }>(
      "/v1/blobs/:blobId",
      async (request, reply) => {
        const body = request.body as AsyncIterable<Uint8Array> | undefined;
        if (
          !body ||
          typeof (body as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] !== "function"
        ) {
          throw badRequest("the body must be sent as application/octet-stream");
        }
        const write: blobs.BlobWrite = {
          blobId: parseId(request.params.blobId, "blob id"),
          cap: header(request.headers, BLOB_CAP_HEADER),
          offset: parseOffset(request.query.offset),
          length: Number(request.headers["content-length"]),
        };
        return reply.code(200).send(await blobs.writeBlob(ctx, write, body));
      },
    );
  });
}
