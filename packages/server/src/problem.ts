import { type ErrorCode, ErrorCodes, ErrorStatus } from "@parley/core";

export type { ErrorCode };

/**
 * The protocol's codes plus two of the relay's own, which clients treat as generic failures:
 * `busy` (503: no room for the reply right now, or shutting down; retry after a pause) and
 * `timeout` (408: the request was not received in time), `forbidden` (403: a WebSocket from a web
 * page of another origin).
 */
export type RelayErrorCode = ErrorCode | "busy" | "timeout" | "forbidden";

const STATUS: Readonly<Record<RelayErrorCode, number>> = {
  ...ErrorStatus,
  busy: 503,
  timeout: 408,
  forbidden: 403,
};

/**
 * A refusal the client caused and should be told about. Anything else thrown inside the relay is
 * a bug and is answered with `internal` and no detail.
 */
export class Problem extends Error {
  override name = "Problem";
  constructor(
    readonly code: RelayErrorCode,
    message: string,
  ) {
    super(message);
  }

  /** The HTTP status, from the protocol's ErrorStatus table. */
  get status(): number {
    return STATUS[this.code];
  }
}

export const statusOf = (code: RelayErrorCode): number => STATUS[code];

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
