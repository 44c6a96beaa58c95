/**
 * Where the relay keeps the bytes of blobs (encrypted file attachments): a seam like `Store`, so
 * the single node keeps them in a directory (FileBlobStore) and a multi-node relay can put them in
 * a shared directory or an object store. The metadata (sizes, offsets, expiry, capability hashes)
 * is in the Store (`store.blobs`); a BlobStore only holds bytes by blob id and never decides
 * anything: the operations in relay/blobs.ts check offsets and sizes before they call it.
 *
 * Every implementation passes test/blob-store-contract.ts.
 */
import type { Readable } from "node:stream";

/** More bytes arrived than the write may take; nothing past `maxBytes` was kept. */
export class BlobWriteOverflow extends Error {
  override name = "BlobWriteOverflow";
}

export interface BlobStore {
  /** Makes an empty blob (a no-op if it exists). */
  create(blobId: string): Promise<void>;
  /**
   * Writes the bytes of `data` at `offset` and makes them durable (synced) before resolving with
   * how many were written. Throws BlobWriteOverflow as soon as more than `maxBytes` arrive, and
   * rethrows an error of `data` (a dropped connection); either way the bytes written are not
   * counted by the caller, who advances `received` only after a write resolves.
   */
  write(blobId: string, offset: number, data: AsyncIterable<Uint8Array>, maxBytes: number): Promise<number>;
  /** The bytes [start, end) as a stream; the caller knows they are there (end ≤ received). */
  read(blobId: string, start: number, end: number): Readable;
  /** Deletes the blob's bytes (overwritten first where the medium allows); no error if gone. */
  remove(blobId: string): Promise<void>;
  /** Every blob id held (to find orphans: bytes whose row is gone). */
  list(): Promise<string[]>;
  /** Waits for background work (deletions) to end. */
  close(): Promise<void>;
}
