/**
 * Every refusal on the wire: `{ code, error }` (plus `pow` with `pow_required`), in HTTP bodies and
 * WebSocket `err` frames alike, and the HTTP status that goes with each code.
 */
import { z } from "zod";

/**
 * What a `pow_required` refusal carries (and `GET /v1/pow` returns): the leading zero bits a stamp
 * needs and the relay's current challenge (absent when `bits` is 0: no stamp needed).
 * See proof-of-work.ts.
 */
export const PowParams = z.object({
  bits: z.number().int().min(0).max(64),
  challenge: z.string().min(1).max(128).optional(),
});
export type PowParams = z.infer<typeof PowParams>;

/** Every error reply. `pow` comes with `pow_required` only, `received` with `bad_offset`. */
export const ErrorBody = z.object({
  code: z.string(),
  error: z.string(),
  pow: PowParams.optional(),
  /** With `bad_offset`: how many bytes of the blob the relay holds. */
  received: z.number().int().nonnegative().optional(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** Error codes, shared by HTTP bodies and WebSocket `err` frames. */
export const ErrorCodes = {
  badRequest: "bad_request",
  badSignature: "bad_signature",
  replay: "replay",
  clockSkew: "clock_skew",
  unknownQueue: "unknown_queue",
  unknownMessage: "unknown_message",
  tooLarge: "too_large",
  badPadding: "bad_padding",
  inviteGone: "invite_gone",
  notFound: "not_found",
  internal: "internal",
  /** The queue holds as many messages or bytes as the relay allows one queue: the recipient must drain it. */
  queueFull: "queue_full",
  /** The relay's disk (or database) is at its limit: it takes no new data until space is freed. */
  storageFull: "storage_full",
  /** Queue and invite creation need a proof-of-work stamp for the challenge in the reply. */
  powRequired: "pow_required",
  /** No room for the reply right now, too many commands on this connection, or shutting down: retry later. */
  busy: "busy",
  /** The request was not received in time. */
  timeout: "timeout",
  /** A WebSocket from a web page of another origin. */
  forbidden: "forbidden",
  /** No such blob (file upload): never created, deleted, or expired. */
  unknownBlob: "unknown_blob",
  /**
   * The blob was deleted before its expiry by the holder of its delete capability (its uploader):
   * the relay keeps only that fact, until the blob would have expired. After that, `unknown_blob`.
   */
  blobDeleted: "blob_deleted",
  /**
   * A blob write at another offset than the bytes the relay holds (out of order, or a second writer),
   * or a download of a blob whose upload is not complete. The reply carries the blob's `received`.
   */
  badOffset: "bad_offset",
} as const;
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** The HTTP status that goes with each error code (WebSocket `err` frames carry the code only). */
export const ErrorStatus: Readonly<Record<ErrorCode, number>> = {
  bad_request: 400,
  bad_padding: 400,
  bad_signature: 401,
  clock_skew: 401,
  unknown_queue: 404,
  unknown_message: 404,
  invite_gone: 404,
  not_found: 404,
  forbidden: 403,
  unknown_blob: 404,
  blob_deleted: 410,
  bad_offset: 409,
  timeout: 408,
  replay: 409,
  too_large: 413,
  pow_required: 429,
  internal: 500,
  busy: 503,
  queue_full: 507,
  storage_full: 507,
};
