/** An error the relay answered with, or a failure to reach it. `code` is one of ErrorCodes or "network". */
export class RelayError extends Error {
  override name = "RelayError";
  constructor(
    readonly code: string,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}
