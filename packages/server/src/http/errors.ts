import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import { ErrorCodes } from "@parley/protocol";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { Problem, type RelayErrorCode, statusOf } from "../problem.js";
import { StoreUnavailableError } from "../store/store.js";
import { routeOf, safeError } from "./logging.js";

/** On every API reply: never sniffed as another type, never cached (replies carry ciphertext). */
export const API_HEADERS = { "x-content-type-options": "nosniff", "cache-control": "no-store" } as const;

/** Fastify's own refusals, in protocol terms. */
function fromFastify(error: FastifyError): Problem | undefined {
  switch (error.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new Problem(ErrorCodes.tooLarge, "request body is too large");
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return new Problem(ErrorCodes.badRequest, "request body is not valid JSON");
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return new Problem(ErrorCodes.badRequest, "request body is empty");
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return new Problem(ErrorCodes.badRequest, "unsupported content type");
    case "FST_ERR_BAD_URL":
      return new Problem(ErrorCodes.badRequest, "the URL is not valid");
    case "FST_ERR_MAX_PARAM_LENGTH":
      return new Problem(ErrorCodes.badRequest, "a path segment is too long");
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return new Problem(ErrorCodes.badRequest, "content length does not match the body");
    default:
      break;
  }
  if (error instanceof SyntaxError)
    return new Problem(ErrorCodes.badRequest, "request body is not valid JSON");
  const status = error.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return new Problem(status === 413 ? ErrorCodes.tooLarge : ErrorCodes.badRequest, "bad request");
  }
  return undefined;
}

/**
 * The store's own refusals, to retry later rather than an internal fault, for HTTP and WebSocket
 * alike: the disk is full (SQLite or a body file could not be written; the same refusal as the
 * storage watermark's, nothing was stored), or the store's server cannot be reached (`503 busy`:
 * clients try again, or another node of a cluster).
 */
export function fromStorage(error: unknown): Problem | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "ENOSPC" || code === "EDQUOT" || code === "SQLITE_FULL") {
    return new Problem(ErrorCodes.storageFull, "the relay's disk is full; try again later");
  }
  if (error instanceof StoreUnavailableError) {
    return new Problem(ErrorCodes.busy, "the relay cannot reach its database just now; try again");
  }
  return undefined;
}

export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  return reply
    .code(problem.status)
    .type("application/json")
    .send({ ...problem.details, code: problem.code, error: problem.message });
}

/**
 * Every error reply is `{code, error}`. A client's mistake is named; anything else is logged here
 * and answered `internal` without detail or stack.
 */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const problem = error instanceof Problem ? error : fromFastify(error);
    if (problem) return sendProblem(reply, problem);
    const refused = fromStorage(error);
    if (refused) {
      request.log.warn(
        { route: routeOf(request), err: safeError(error) },
        refused.code === ErrorCodes.busy
          ? "store unavailable: request refused"
          : "disk full: new data refused",
      );
      return sendProblem(reply, refused);
    }
    request.log.error({ route: routeOf(request), err: safeError(error) }, "internal error");
    return reply
      .code(statusOf(ErrorCodes.internal))
      .type("application/json")
      .send({ code: ErrorCodes.internal, error: "internal error" });
  });

  app.setNotFoundHandler((_request, reply) => {
    return sendProblem(reply, new Problem(ErrorCodes.notFound, "no such endpoint"));
  });
}

/**
 * Errors Fastify meets before routing (a malformed URL, an over-long path parameter): answered in
 * the same form. Fastify's own answer would also repeat the path, which may carry an id.
 */
export function frameworkErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  void sendProblem(
    reply.headers(API_HEADERS),
    fromFastify(error) ?? new Problem(ErrorCodes.internal, "internal error"),
  );
}

/**
 * Refusals Node's HTTP parser makes before Fastify sees a request (a request or its headers not
 * received in time, headers too large, a malformed request): written straight to the socket,
 * still as `{code, error}`, then the connection is closed.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  let status: number;
  let code: RelayErrorCode;
  let message: string;
  if (error.code === "ERR_HTTP_REQUEST_TIMEOUT") {
    [status, code, message] = [408, "timeout", "the request was not received in time"];
  } else if (error.code === "HPE_HEADER_OVERFLOW") {
    [status, code, message] = [431, ErrorCodes.tooLarge, "request headers are too large"];
  } else {
    [status, code, message] = [400, ErrorCodes.badRequest, "malformed HTTP request"];
  }
  const body = JSON.stringify({ code, error: message });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nX-Content-Type-Options: nosniff\r\n` +
        `Cache-Control: no-store\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/**
 * nosniff on every reply; `no-store` on every reply that does not set its own caching (the web
 * app's files do).
 */
export function apiHeaders(app: FastifyInstance): void {
  app.addHook("onSend", async (_request, reply, payload) => {
    reply.header("x-content-type-options", "nosniff");
    if (!reply.hasHeader("cache-control")) reply.header("cache-control", "no-store");
    return payload;
  });
}
