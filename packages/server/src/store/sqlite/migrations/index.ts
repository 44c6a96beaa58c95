/**
 * SQLite schema migrations, one numbered module per step (simplexmq-style: each backend has its
 * own list). Add a step by adding mNNNN_name.ts and appending it here; never edit an applied one.
 */
import { m0001Initial } from "./m0001_initial.js";
import { m0002Broadcast } from "./m0002_broadcast.js";
import { m0003QueueLastSeq } from "./m0003_queue_last_seq.js";
import { m0004QueueUsage } from "./m0004_queue_usage.js";
import { m0005BodyFiles } from "./m0005_body_files.js";
import { m0006Blobs } from "./m0006_blobs.js";
import { m0007BlobTombstones } from "./m0007_blob_tombstones.js";

export interface Migration {
  /** Equals the position in the list, starting at 1; stored in PRAGMA user_version once applied. */
  version: number;
  name: string;
  sql: string;
}

export const migrations: readonly Migration[] = [
  m0001Initial,
  m0002Broadcast,
  m0003QueueLastSeq,
  m0004QueueUsage,
  m0005BodyFiles,
  m0006Blobs,
  m0007BlobTombstones,
];
