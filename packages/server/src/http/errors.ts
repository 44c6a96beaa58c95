import { ErrorCodes } from "@parley/core";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { Problem, statusOf } from "../problem.js";
import { routeOf, safeError } from "./logging.js";

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

export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  return reply
    .code(problem.status)
    .type("application/json")
    .send({ code: problem.code, error: problem.message });
}

/**
 * Every error reply is `{code, error}`. A client's mistake is named; anything else is logged here
 * and answered `internal` without detail or stack.
 */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const problem = error instanceof Problem ? error : fromFastify(error);
    if (problem) return sendProblem(reply, problem);
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
