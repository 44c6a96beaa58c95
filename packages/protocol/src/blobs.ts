/**
 * Blobs: the encrypted files the relay keeps for attachments (docs/protocol.md, "Blobs").
 *
 * A client encrypts a file in fixed chunks (core's files/stream-aead.ts: STREAM over AES-256-GCM,
 * FILE_CHUNK_BYTES of plaintext per chunk, each with a 16-byte tag) after padding its plaintext to a
 * Padmé length (below). So the relay only ever sees sizes of the form `blobSize(padme(n))`, and
 * refuses any other (`bad_padding`): it learns the file's size class, not its size.
 */
import { z } from "zod";
import { Id } from "./ids.js";

/** Plaintext bytes per encrypted chunk; every chunk but the last has exactly this many. */
export const FILE_CHUNK_BYTES = 256 * 1024;
/** The AEAD tag every chunk carries. */
export const FILE_TAG_BYTES = 16;
/** Most bytes one blob write (`PUT /v1/blobs/<id>`) may carry. */
export const BLOB_PUT_MAX_BYTES = 8 * 1024 * 1024;
/** The header that carries a blob's write or delete capability. */
export const BLOB_CAP_HEADER = "parley-blob-cap";

/**
 * Padmé (Nikitin et al., "Reducing Metadata Leakage from Encrypted Files and Communication with
 * PURBs", 2019): rounds `length` up so that it leaks O(log log n) bits, with at most ~12 % overhead.
 * Exact for any safe integer (no 32-bit shifts).
 */
export function padme(length: number): number {
  if (!Number.isSafeInteger(length) || length < 0) throw new RangeError(`not a length: ${length}`);
  if (length < 2) return length;
  const e = Math.floor(Math.log2(length));
  const s = Math.floor(Math.log2(e)) + 1;
  const lastBits = e - s;
  const step = 2 ** lastBits;
  return Math.ceil(length / step) * step;
}

/** Chunks of a padded plaintext of `paddedLength` bytes (at least one, also for an empty file). */
export const chunkCount = (paddedLength: number): number =>
  Math.max(1, Math.ceil(paddedLength / FILE_CHUNK_BYTES));

/** The blob (ciphertext) size of a padded plaintext of `paddedLength` bytes. */
export const blobSize = (paddedLength: number): number =>
  paddedLength + chunkCount(paddedLength) * FILE_TAG_BYTES;

/** The blob size of a file of `fileLength` bytes: padded, then encrypted. */
export const blobSizeForFile = (fileLength: number): number => blobSize(padme(fileLength));

/**
 * The padded plaintext length a blob of `size` bytes holds, or null when no padded plaintext
 * encrypts to that size (a size the relay refuses).
 */
export function paddedLengthOf(size: number): number | null {
  if (size === FILE_TAG_BYTES) return 0; // an empty file: one empty chunk, its tag
  if (!Number.isSafeInteger(size) || size <= FILE_TAG_BYTES) return null;
  const chunks = Math.ceil(size / (FILE_CHUNK_BYTES + FILE_TAG_BYTES));
  const padded = size - chunks * FILE_TAG_BYTES;
  if (padded <= 0 || padme(padded) !== padded || blobSize(padded) !== size) return null;
  return padded;
}

export const isBlobSize = (size: number): boolean => paddedLengthOf(size) !== null;

/** A blob's write or delete capability: 32 random bytes the relay hands out once, base64url. */
export const BlobCap = z
  .string()
  .length(43)
  .regex(/^[A-Za-z0-9_-]*$/, "must be base64url");

/** `POST /v1/blobs`: the blob's size, a `blobSize(padme(n))` value. */
export const CreateBlobRequest = z.object({ size: z.number().int().positive() }).strict();
export type CreateBlobRequest = z.infer<typeof CreateBlobRequest>;

export const CreateBlobResponse = z.object({
  blobId: Id,
  /** Needed for every write (`parley-blob-cap` header); held by the uploader only. */
  writeCap: BlobCap,
  /** Deletes the blob before it expires. Parley clients keep it on the uploading device only. */
  deleteCap: BlobCap,
  /** Until then (ms since the epoch, rounded up to the hour) the upload may be completed. */
  uploadBy: z.number().int(),
});
export type CreateBlobResponse = z.infer<typeof CreateBlobResponse>;

/** `GET /v1/blobs/<id>/status`: how far an upload got (to resume it), and whether it is complete. */
export const BlobStatus = z.object({
  size: z.number().int().positive(),
  received: z.number().int().nonnegative(),
  complete: z.boolean(),
});
export type BlobStatus = z.infer<typeof BlobStatus>;

/** `PUT /v1/blobs/<id>?offset=N`: what the relay holds after the write. */
export const PutBlobResponse = z.object({ received: z.number().int().nonnegative(), complete: z.boolean() });
export type PutBlobResponse = z.infer<typeof PutBlobResponse>;

/** `GET /v1/limits`: what the relay accepts, so a client can refuse a file before uploading it. */
export const RelayLimits = z.object({
  /** Largest file (plaintext bytes) whose blob the relay takes: `--max-file-mb`. */
  maxFileBytes: z.number().int().nonnegative(),
  /** Largest blob: blobSizeForFile(maxFileBytes). */
  maxBlobBytes: z.number().int().nonnegative(),
  /** Largest message body (a padding bucket). */
  maxMessageBytes: z.number().int().positive(),
  /** Largest single blob write. */
  blobPutMaxBytes: z.number().int().positive(),
  /**
   * The relay's nodes, as browsers reach them (`--public-origin`), when it has named them: a client
   * fails over between them (a web app loaded from one node goes on through another).
   */
  nodes: z.array(z.string()).optional(),
});
export type RelayLimits = z.infer<typeof RelayLimits>;

export { Id as BlobId };
