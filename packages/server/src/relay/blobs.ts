/**
 * Blob operations (docs/protocol.md, "Blobs"), independent of transport like operations.ts: a
 * client creates a blob of a declared padded size, writes it in order at offsets (resumable: the
 * status says how many bytes are in), and anyone holding the blob id reads it once complete, with
 * ranges (resumable downloads). No account, no queue: the relay cannot tell who uploads or
 * downloads what. The write capability lets only the uploader write; the delete capability ends
 * the blob before its expiry.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Readable } from "node:stream";
import {
  BLOB_PUT_MAX_BYTES,
  type BlobStatus,
  blobSizeForFile,
  type CreateBlobResponse,
  ErrorCodes,
  isBlobSize,
  type PutBlobResponse,
  type RelayLimits,
  toBase64Url,
  utf8,
} from "@parley/protocol";
import { BlobWriteOverflow } from "../blobs/blob-store.js";
import { newId } from "../ids.js";
import { badRequest, Problem } from "../problem.js";
import type { BlobRecord } from "../store/store.js";
import type { RelayContext } from "./context.js";

/** What the relay takes, for `GET /v1/limits` (clients refuse an over-limit file before uploading). */
export function limits(ctx: RelayContext): RelayLimits {
  return {
    maxFileBytes: ctx.config.maxFileBytes,
    maxBlobBytes: maxBlobBytes(ctx),
    maxMessageBytes: ctx.config.maxMessageBytes,
    blobPutMaxBytes: BLOB_PUT_MAX_BYTES,
    ...(ctx.config.publicOrigins.length > 0 ? { nodes: [...ctx.config.publicOrigins] } : {}),
  };
}

const maxBlobBytes = (ctx: RelayContext): number =>
  ctx.config.maxFileBytes > 0 ? blobSizeForFile(ctx.config.maxFileBytes) : 0;

const capHash = (cap: string): string => createHash("sha256").update(cap, "utf8").digest("hex");

function capMatches(given: string | undefined, hash: string): boolean {
  if (given === undefined || given.length > 128) return false;
  return timingSafeEqual(Buffer.from(capHash(given), "hex"), Buffer.from(hash, "hex"));
}

/** The bytes a proof-of-work stamp binds for blob creation (the relay asks as for queues). */
export const createBlobBytes = (size: number): Uint8Array => utf8(`parley-relay-v1|blob|${size}`);

/**
 * A new, empty blob of `size` bytes. Refused: over the relay's limit (`too_large`), not a padded
 * size (`bad_padding`), while storage is full or too many bytes are promised to uploads in
 * progress (`storage_full`), without proof of work when the relay asks for it (`pow_required`).
 */
export async function createBlob(
  ctx: RelayContext,
  size: number,
  powStamp?: string,
): Promise<CreateBlobResponse> {
  const max = maxBlobBytes(ctx);
  if (size > max) {
    throw new Problem(
      ErrorCodes.tooLarge,
      max === 0
        ? "this relay takes no files"
        : `a blob of ${size} bytes is larger than this relay takes (${max} bytes: files up to ${ctx.config.maxFileBytes} bytes)`,
    );
  }
  if (!isBlobSize(size)) {
    throw new Problem(ErrorCodes.badPadding, `${size} is not a padded blob size (see docs/protocol.md)`);
  }
  await ctx.storage.check();
  ctx.pow.check(powStamp, createBlobBytes(size));
  if ((await ctx.store.blobs.pendingBytes()) + size > ctx.config.maxPendingBlobBytes) {
    throw new Problem(
      ErrorCodes.storageFull,
      "the relay has as many uploads in progress as it takes; try again later",
    );
  }
  const blobId = newId();
  const writeCap = toBase64Url(randomBytes(32));
  const deleteCap = toBase64Url(randomBytes(32));
  const uploadBy = ctx.retention.blobUploadExpiry(ctx.now());
  await ctx.blobs.create(blobId);
  await ctx.store.blobs.create({
    blobId,
    size,
    expiresAt: uploadBy,
    writeCapHash: capHash(writeCap),
    deleteCapHash: capHash(deleteCap),
  });
  return { blobId, writeCap, deleteCap, uploadBy };
}

async function requireBlob(ctx: RelayContext, blobId: string): Promise<BlobRecord> {
  const blob = await ctx.store.blobs.get(blobId);
  // An expired blob not yet swept is gone all the same.
  if (!blob || blob.expiresAt <= ctx.now()) throw unknownBlob();
  if (blob.deleted) throw deletedBlob();
  return blob;
}

const statusOf = (blob: BlobRecord): BlobStatus => ({
  size: blob.size,
  received: blob.received,
  complete: blob.complete,
});

export async function blobStatus(ctx: RelayContext, blobId: string): Promise<BlobStatus> {
  return statusOf(await requireBlob(ctx, blobId));
}

export interface BlobWrite {
  blobId: string;
  cap: string | undefined;
  offset: number;
  /** The request's Content-Length: a write must say how long it is. */
  length: number;
}

/**
 * Checks a write before its body is read: the capability, the offset (exactly the bytes held so
 * far: in order, no gaps, no overwrites), the length (1 … BLOB_PUT_MAX_BYTES, not past the size).
 */
export async function checkBlobWrite(ctx: RelayContext, w: BlobWrite): Promise<BlobRecord> {
  const blob = await requireBlob(ctx, w.blobId);
  if (!capMatches(w.cap, blob.writeCapHash)) {
    throw new Problem(ErrorCodes.forbidden, "this blob's write capability is missing or wrong");
  }
  if (blob.complete) throw badOffset("the blob is complete: it takes no more writes", blob.received);
  if (w.offset !== blob.received) {
    throw badOffset(`the blob holds ${blob.received} bytes: write at offset ${blob.received}`, blob.received);
  }
  if (!Number.isSafeInteger(w.length) || w.length <= 0) {
    throw badRequest("a blob write needs a Content-Length of at least 1 byte");
  }
  if (w.length > BLOB_PUT_MAX_BYTES) {
    throw new Problem(ErrorCodes.tooLarge, `a blob write carries at most ${BLOB_PUT_MAX_BYTES} bytes`);
  }
  if (w.offset + w.length > blob.size) {
    throw badRequest(`the write ends at ${w.offset + w.length}, past the blob's size of ${blob.size} bytes`);
  }
  return blob;
}

/**
 * Writes `body` (streamed) at the offset checked by checkBlobWrite. One writer per blob at a time
 * (a second gets `bad_offset`); the bytes count only once all `length` arrived and are synced.
 */
export async function writeBlob(
  ctx: RelayContext,
  w: BlobWrite,
  body: AsyncIterable<Uint8Array>,
): Promise<PutBlobResponse> {
  const blob = await checkBlobWrite(ctx, w);
  if (ctx.blobWriters.has(w.blobId)) {
    throw badOffset("another write to this blob is in progress", blob.received);
  }
  await ctx.storage.check();
  ctx.blobWriters.add(w.blobId);
  try {
    let written: number;
    try {
      written = await ctx.blobs.write(w.blobId, w.offset, body, w.length);
    } catch (e) {
      if (e instanceof BlobWriteOverflow) throw badRequest("the body is longer than its Content-Length");
      throw e;
    }
    if (written !== w.length) throw badRequest("the body is shorter than its Content-Length");
    const to = w.offset + written;
    const advanced = await ctx.store.blobs.advance(
      w.blobId,
      w.offset,
      to,
      ctx.retention.messageExpiry(ctx.now()),
    );
    if (!advanced) {
      const now = await ctx.store.blobs.get(w.blobId);
      if (!now) throw unknownBlob();
      if (now.deleted) {
        // Deleted during the write: the bytes it may have left go too.
        await ctx.blobs.remove(w.blobId);
        throw deletedBlob();
      }
      throw badOffset("the blob changed during the write", now.received);
    }
    return { received: to, complete: to === blob.size };
  } finally {
    ctx.blobWriters.delete(w.blobId);
  }
}

/** A complete blob's bytes [start, end): `bad_offset` while its upload is not complete. */
export async function readBlob(
  ctx: RelayContext,
  blobId: string,
  range: { start: number; end?: number | undefined } | undefined,
): Promise<{ size: number; start: number; end: number; stream: () => Readable }> {
  const blob = await requireBlob(ctx, blobId);
  if (!blob.complete) throw badOffset("the blob's upload is not complete", blob.received);
  const start = range?.start ?? 0;
  const end = Math.min(blob.size, range?.end ?? blob.size);
  if (start >= blob.size || end <= start) {
    throw badRequest(`the range is outside the blob's ${blob.size} bytes`);
  }
  return { size: blob.size, start, end, stream: () => ctx.blobs.read(blobId, start, end) };
}

/**
 * Deletes a blob before its expiry, for whoever holds its delete capability (Parley clients: the
 * uploading device only). A second delete, like any use of a deleted blob, is `blob_deleted`.
 */
export async function deleteBlob(ctx: RelayContext, blobId: string, cap: string | undefined): Promise<void> {
  const blob = await requireBlob(ctx, blobId);
  if (!capMatches(cap, blob.deleteCapHash)) {
    throw new Problem(ErrorCodes.forbidden, "this blob's delete capability is missing or wrong");
  }
  // The row stays, flagged, until the blob would have expired (the sweep removes it then): a
  // reader is told `blob_deleted`, not `unknown_blob`. The bytes go now.
  if (!(await ctx.store.blobs.markDeleted(blobId))) throw deletedBlob();
  await ctx.blobs.remove(blobId);
}

/** The sweep's part for blobs: expired ones (unfinished uploads, and complete ones at the TTL). */
export async function expireBlobs(ctx: RelayContext): Promise<number> {
  let removed = 0;
  for (;;) {
    const ids = await ctx.store.blobs.expired(ctx.now(), 100);
    for (const id of ids) {
      // The row goes first: a crash in between leaves an orphan file, removed at the next start.
      await ctx.store.blobs.delete(id);
      await ctx.blobs.remove(id);
    }
    removed += ids.length;
    if (ids.length < 100) return removed;
  }
}

/** Bytes no row names (a crash between a row's deletion and its bytes'): removed at start. */
export async function removeOrphanBlobs(ctx: RelayContext): Promise<number> {
  let removed = 0;
  for (const id of await ctx.blobs.list()) {
    if (!(await ctx.store.blobs.get(id))) {
      await ctx.blobs.remove(id);
      removed++;
    }
  }
  return removed;
}

const unknownBlob = () =>
  new Problem(ErrorCodes.unknownBlob, "no such blob (never created, deleted, or expired)");
const deletedBlob = () =>
  new Problem(ErrorCodes.blobDeleted, "the blob was deleted by its uploader before its expiry");
const badOffset = (message: string, received: number) =>
  new Problem(ErrorCodes.badOffset, message, { received });
