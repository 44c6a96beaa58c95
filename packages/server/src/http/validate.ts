import { Id } from "@parley/protocol";
import type { z } from "zod";
import { badRequest, describeIssues } from "../problem.js";

export function parseWith<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw badRequest(describeIssues(what, result.error.issues));
  return result.data;
}

export const parseId = (value: unknown, what: string): string => parseWith(Id, value, what);

/** Octet-stream bodies arrive as a Buffer; anything else means the wrong content type (or none). */
export function binaryBody(body: unknown): Buffer {
  if (!Buffer.isBuffer(body)) throw badRequest("the body must be sent as application/octet-stream");
  return body;
}
