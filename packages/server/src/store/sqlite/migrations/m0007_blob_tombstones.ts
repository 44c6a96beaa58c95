import type { Migration } from "./index.js";

/**
 * Blobs deleted early by their uploader (the delete capability) keep their row, flagged, until the
 * time they would have expired: a reader who comes later is told `blob_deleted` ("the sender
 * deleted it") rather than `unknown_blob` ("expired"). The bytes are removed at once. The flag
 * reveals nothing the relay did not see already: it served the DELETE.
 */
export const m0007BlobTombstones: Migration = {
  version: 7,
  name: "blob_tombstones",
  sql: `
ALTER TABLE blobs ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
`,
};
