import type Database from "better-sqlite3";
import type { BlobIndex, BlobRecord } from "../blob-index.js";

interface BlobRow {
  blob_id: string;
  size: number;
  received: number;
  complete: number;
  expires_at: number;
  write_cap_hash: string;
  delete_cap_hash: string;
  deleted: number;
}

const toRecord = (r: BlobRow): BlobRecord => ({
  blobId: r.blob_id,
  size: r.size,
  received: r.received,
  complete: r.complete === 1,
  expiresAt: r.expires_at,
  writeCapHash: r.write_cap_hash,
  deleteCapHash: r.delete_cap_hash,
  deleted: r.deleted === 1,
});

/** The `blobs` table (migrations 6 and 7). Writes go through the store's group commit (`write`). */
export class SqliteBlobIndex implements BlobIndex {
  constructor(
    private readonly db: Database.Database,
    private readonly write: <T>(work: () => T) => Promise<T>,
  ) {}

  async create(record: Omit<BlobRecord, "received" | "complete" | "deleted">): Promise<void> {
    await this.write(() =>
      this.db
        .prepare(
          "INSERT INTO blobs (blob_id, size, expires_at, write_cap_hash, delete_cap_hash) VALUES (?, ?, ?, ?, ?)",
        )
        .run(record.blobId, record.size, record.expiresAt, record.writeCapHash, record.deleteCapHash),
    );
  }

  async get(blobId: string): Promise<BlobRecord | null> {
    const row = this.db.prepare("SELECT * FROM blobs WHERE blob_id = ?").get(blobId) as BlobRow | undefined;
    return row ? toRecord(row) : null;
  }

  async advance(blobId: string, from: number, to: number, completeExpiresAt: number): Promise<boolean> {
    return this.write(
      () =>
        this.db
          .prepare(
            `UPDATE blobs SET received = @to,
               complete = CASE WHEN @to = size THEN 1 ELSE 0 END,
               expires_at = CASE WHEN @to = size THEN @exp ELSE expires_at END
             WHERE blob_id = @id AND received = @from AND complete = 0 AND deleted = 0 AND @to <= size`,
          )
          .run({ id: blobId, from, to, exp: completeExpiresAt }).changes === 1,
    );
  }

  async markDeleted(blobId: string): Promise<boolean> {
    return this.write(
      () =>
        this.db.prepare("UPDATE blobs SET deleted = 1 WHERE blob_id = ? AND deleted = 0").run(blobId)
          .changes === 1,
    );
  }

  async delete(blobId: string): Promise<boolean> {
    return this.write(() => this.db.prepare("DELETE FROM blobs WHERE blob_id = ?").run(blobId).changes === 1);
  }

  async expired(now: number, limit: number): Promise<string[]> {
    return this.db
      .prepare("SELECT blob_id FROM blobs WHERE expires_at <= ? LIMIT ?")
      .pluck()
      .all(now, limit) as string[];
  }

  async list(limit: number): Promise<BlobRecord[]> {
    return (
      this.db.prepare("SELECT * FROM blobs ORDER BY expires_at, blob_id LIMIT ?").all(limit) as BlobRow[]
    ).map(toRecord);
  }

  async pendingBytes(): Promise<number> {
    return this.db
      .prepare("SELECT COALESCE(SUM(size - received), 0) FROM blobs WHERE complete = 0 AND deleted = 0")
      .pluck()
      .get() as number;
  }

  async totalBytes(): Promise<number> {
    return this.db
      .prepare("SELECT COALESCE(SUM(size), 0) FROM blobs WHERE deleted = 0")
      .pluck()
      .get() as number;
  }
}
