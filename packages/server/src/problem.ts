import { type ErrorCode, ErrorCodes, ErrorStatus, type PowParams } from "@parley/protocol";

export type { ErrorCode };

/**
 * Every code the relay answers with is the protocol's (`ErrorCodes`, `ErrorStatus` in core),
 * including `busy`, `timeout` and `forbidden`, which clients treat as generic failures.
 */
export type RelayErrorCode = ErrorCode;

/** Fields an error body may carry besides `code` and `error` (`pow` with `pow_required`). */
export interface ProblemDetails {
  pow?: PowParams;
  /** With `bad_offset`: the bytes of the blob the relay holds. */
  received?: number;
}

/**
 * A refusal the client caused and should be told about. Anything else thrown inside the relay is
 * a bug and is answered with `internal` and no detail.
 */
export class Problem extends Error {
  override name = "Problem";
  constructor(
    readonly code: RelayErrorCode,
    message: string,
    readonly details: ProblemDetails = {},
  ) {
    super(message);
  }

  /** The HTTP status, from the protocol's ErrorStatus table. */
  get status(): number {
    return ErrorStatus[this.code];
  }
}

export const statusOf = (code: RelayErrorCode): number => ErrorStatus[code];

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
