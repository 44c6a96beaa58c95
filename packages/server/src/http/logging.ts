/**
 * What the relay logs, and what it must not. A relay log is metadata: who talked to whom, when.
 * So at info level a request is logged as method, route *pattern* (`/v1/send/:sendId`, never the
 * path with the id in it), status and duration: no ids, keys, bodies, query strings, headers or
 * client addresses. Fastify's own per-request lines (which include the URL and remote address)
 * are replaced by this controller, and the serializers below strip requests and responses down
 * to the same fields in case anything else logs one.
 */
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from "fastify";
import { LogController } from "fastify";

export const routeOf = (request: FastifyRequest): string => request.routeOptions?.url ?? "(no route)";

export const safeRequest = (req: { method?: string; routeOptions?: { url?: string } }) => ({
  method: req.method,
  route: req.routeOptions?.url ?? "(no route)",
});

export const safeResponse = (res: { statusCode?: number }) => ({ status: res.statusCode });

/**
 * An error's kind, code, message and stack; relay errors never put client data in messages.
 * Idempotent, because call sites reduce errors themselves and the `err` serializer runs again.
 */
export function safeError(err: unknown): Record<string, unknown> {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return {
      type: err.name,
      code: typeof code === "string" ? code : undefined,
      message: err.message,
      stack: err.stack,
    };
  }
  if (err !== null && typeof err === "object" && typeof (err as { type?: unknown }).type === "string") {
    return err as Record<string, unknown>;
  }
  return { type: typeof err };
}

export const SAFE_SERIALIZERS = { req: safeRequest, res: safeResponse, err: safeError };

/** The given logger with the safe serializers on top (a pino child; Fastify's logger is pino). */
export function withSafeSerializers(logger: FastifyBaseLogger): FastifyBaseLogger {
  return logger.child({}, { serializers: SAFE_SERIALIZERS }) as FastifyBaseLogger;
}

export class PrivacyLogController extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    const entry = {
      method: request.method,
      route: routeOf(request),
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 10) / 10,
    };
    if (error) reply.log.error({ ...entry, err: safeError(error) }, "request failed");
    else reply.log.info(entry, "request");
  }

  override defaultErrorLog(error: Error, request: FastifyRequest, reply: FastifyReply): void {
    if (reply.statusCode >= 500) reply.log.error({ route: routeOf(request), err: safeError(error) }, "error");
  }

  override routeNotFound(): void {}

  override streamError(error: Error, request: FastifyRequest, reply: FastifyReply): void {
    reply.log.warn(
      { route: routeOf(request), code: (error as { code?: string }).code },
      "response stream error",
    );
  }

  override writeHeadError(error: Error, request: FastifyRequest, reply: FastifyReply): void {
    reply.log.warn({ route: routeOf(request), err: safeError(error) }, "writing response headers failed");
  }

  override serializerError(
    error: Error,
    request: FastifyRequest,
    reply: FastifyReply,
    metadata: { statusCode: number },
  ): void {
    reply.log.error(
      { route: routeOf(request), status: metadata.statusCode, err: safeError(error) },
      "response serialization failed",
    );
  }
}
