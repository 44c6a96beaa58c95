/**
 * Blob metadata, part of the relay's Store (the bytes are in a BlobStore, blobs/blob-store.ts).
 * Like the rest of the Store, times are given by the caller already rounded, and every backend
 * must pass the same contract (test/blob-store-contract.ts).
 */

export interface BlobRecord {
  blobId: string;
  /** The declared size: a padded blob size (protocol's isBlobSize). */
  size: number;
  /** Bytes in so far, from offset 0 (writes are in order). */
  received: number;
  /** All `size` bytes are in: the blob can be read, and no longer written. */
  complete: boolean;
  /** Deleted (row and bytes) once this time passes. */
  expiresAt: number;
  /** SHA-256 (hex) of the write capability, and of the delete capability. */
  writeCapHash: string;
  deleteCapHash: string;
  /**
   * Deleted early by its uploader (the delete capability): the bytes are gone and the row is kept,
   * until `expiresAt`, only so that a reader learns `blob_deleted` rather than `unknown_blob`.
   */
  deleted: boolean;
}

export interface BlobIndex {
  /** Records a new, empty blob. */
  create(record: Omit<BlobRecord, "received" | "complete" | "deleted">): Promise<void>;
  get(blobId: string): Promise<BlobRecord | null>;
  /**
   * Moves `received` from `from` to `to`, only if it is `from` now (a second writer loses: false).
   * Reaching `size` makes the blob complete and sets its expiry to `completeExpiresAt`.
   */
  advance(blobId: string, from: number, to: number, completeExpiresAt: number): Promise<boolean>;
  /**
   * Marks the blob deleted (a tombstone until its expiry, counted in no total, taking no writes);
   * false if there was no such blob or it was deleted already.
   */
  markDeleted(blobId: string): Promise<boolean>;
  /** Deletes the row; false if there was none. */
  delete(blobId: string): Promise<boolean>;
  /** Ids of blobs expired at `now`, at most `limit` (the sweep removes their bytes, then the rows). */
  expired(now: number, limit: number): Promise<string[]>;
  /** Bytes declared by incomplete blobs and not received yet: room promised to uploads in progress. */
  pendingBytes(): Promise<number>;
  /** Every blob's row, oldest expiry first, at most `limit` (the operator's `disclose --all-blobs`). */
  list(limit: number): Promise<BlobRecord[]>;
  /** Bytes of every blob not deleted, complete or not, as declared (for the operator's numbers). */
  totalBytes(): Promise<number>;
}
