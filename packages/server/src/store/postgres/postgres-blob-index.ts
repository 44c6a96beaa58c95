/**
 * Blob metadata on PostgreSQL (the `blobs` table, migrations 2 and 3): the same rows as the SQLite store's
 * m0006, so any node of a cluster can answer for any blob's metadata. The bytes themselves are in
 * the relay's BlobStore (docs/relay-operations.md says where a cluster keeps them).
 */
import type pg from "pg";
import type { BlobIndex, BlobRecord } from "../blob-index.js";

interface BlobRow {
  blob_id: string;
  size: number;
  received: number;
  complete: boolean;
  expires_at: number;
  write_cap_hash: string;
  delete_cap_hash: string;
  deleted: boolean;
}

const toRecord = (r: BlobRow): BlobRecord => ({
  blobId: r.blob_id,
  size: Number(r.size),
  received: Number(r.received),
  complete: r.complete,
  expiresAt: Number(r.expires_at),
  writeCapHash: r.write_cap_hash,
  deleteCapHash: r.delete_cap_hash,
  deleted: r.deleted,
});

/** `query`: the store's one-statement runner (retries deadlocks and serialization failures). */
export class PostgresBlobIndex implements BlobIndex {
  constructor(
    private readonly query: <R extends pg.QueryResultRow>(
      text: string,
      values?: unknown[],
    ) => Promise<pg.QueryResult<R>>,
  ) {}

  async create(record: Omit<BlobRecord, "received" | "complete" | "deleted">): Promise<void> {
    await this.query(
      "INSERT INTO blobs (blob_id, size, expires_at, write_cap_hash, delete_cap_hash) VALUES ($1, $2, $3, $4, $5)",
      [record.blobId, record.size, record.expiresAt, record.writeCapHash, record.deleteCapHash],
    );
  }

  async get(blobId: string): Promise<BlobRecord | null> {
    const r = await this.query<BlobRow>("SELECT * FROM blobs WHERE blob_id = $1", [blobId]);
    return r.rows[0] ? toRecord(r.rows[0]) : null;
  }

  async advance(blobId: string, from: number, to: number, completeExpiresAt: number): Promise<boolean> {
    // One statement: of two nodes writing the same blob at once, only one moves it on.
    const r = await this.query(
      `UPDATE blobs SET received = $3,
              complete = ($3 = size),
              expires_at = CASE WHEN $3 = size THEN $4 ELSE expires_at END
        WHERE blob_id = $1 AND received = $2 AND NOT complete AND NOT deleted AND $3 <= size`,
      [blobId, from, to, completeExpiresAt],
    );
    return r.rowCount === 1;
  }

  async markDeleted(blobId: string): Promise<boolean> {
    const r = await this.query("UPDATE blobs SET deleted = true WHERE blob_id = $1 AND NOT deleted", [
      blobId,
    ]);
    return r.rowCount === 1;
  }

  async delete(blobId: string): Promise<boolean> {
    return (await this.query("DELETE FROM blobs WHERE blob_id = $1", [blobId])).rowCount === 1;
  }

  async expired(now: number, limit: number): Promise<string[]> {
    const r = await this.query<{ blob_id: string }>(
      "SELECT blob_id FROM blobs WHERE expires_at <= $1 LIMIT $2",
      [now, limit],
    );
    return r.rows.map((row) => row.blob_id);
  }

  async list(limit: number): Promise<BlobRecord[]> {
    const r = await this.query<BlobRow>("SELECT * FROM blobs ORDER BY expires_at, blob_id LIMIT $1", [limit]);
    return r.rows.map(toRecord);
  }

  async pendingBytes(): Promise<number> {
    const r = await this.query<{ n: string }>(
      "SELECT COALESCE(SUM(size - received), 0) AS n FROM blobs WHERE NOT complete AND NOT deleted",
    );
    return Number(r.rows[0]?.n ?? 0);
  }

  async totalBytes(): Promise<number> {
    const r = await this.query<{ n: string }>(
      "SELECT COALESCE(SUM(size), 0) AS n FROM blobs WHERE NOT deleted",
    );
    return Number(r.rows[0]?.n ?? 0);
  }
}
