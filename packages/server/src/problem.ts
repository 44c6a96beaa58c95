import { ErrorCodes } from "@parley/core";

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** HTTP status for each protocol error code (docs/protocol.md, "Errors"). */
const STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  bad_padding: 400,
  bad_signature: 401,
  clock_skew: 401,
  unknown_queue: 404,
  unknown_message: 404,
  invite_gone: 404,
  replay: 409,
  too_large: 413,
  internal: 500,
};

/**
 * A refusal the client caused and should be told about. Anything else thrown inside the relay is
 * a bug and is answered with `internal` and no detail.
 */
export class Problem extends Error {
  override name = "Problem";
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }

  get status(): number {
    return STATUS[this.code];
  }
}

export const statusOf = (code: ErrorCode): number => STATUS[code];

export const badRequest = (message: string) => new Problem(ErrorCodes.badRequest, message);

/** Describes why a zod schema rejected input, naming fields but never echoing their values. */
export function describeIssues(
  what: string,
  issues: readonly { path: PropertyKey[]; message: string }[],
): string {
  const first = issues[0];
  if (!first) return `invalid ${what}`;
  const field = first.path.map(String).join(".");
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : "";
  return `invalid ${what}: ${field ? `${field}: ` : ""}${first.message}${more}`;
}
