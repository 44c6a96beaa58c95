import type { Migration } from "./index.js";

/**
 * Blobs: encrypted file attachments (docs/protocol.md, "Blobs"). The bytes live in files (the blob
 * store, `relay-blobs/`); a row holds only what the relay needs to take writes and serve reads:
 * the blob's random id, its declared (padded) size, how many bytes are in, whether it is complete,
 * when it expires (rounded up to the hour), and SHA-256 hashes of its write and delete
 * capabilities (the capabilities themselves are never stored).
 *
 * What a row reveals: a size class (sizes are Padmé-padded before encryption) and an expiry hour.
 * No queue, no sender, no recipient, no name, no type: nothing links a blob to a conversation but
 * the encrypted message that carries its id.
 */
export const m0006Blobs: Migration = {
  version: 6,
  name: "blobs",
  sql: `
CREATE TABLE blobs (
  blob_id TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  received INTEGER NOT NULL DEFAULT 0,
  complete INTEGER NOT NULL DEFAULT 0,
  expires_at INTEGER NOT NULL,
  write_cap_hash TEXT NOT NULL,
  delete_cap_hash TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX blobs_expiry ON blobs (expires_at);
`,
};
