import type { Migration } from "./index.js";

/**
 * Broadcast queues (a group's one queue, read by every member with a shared key; see
 * docs/protocol.md). One flag per queue, nothing per reader: the relay keeps no list of who reads.
 *
 * No data changes: from this version on a new message's `seq` is at least its `expires_at` (see
 * SqliteStore.enqueue), which keeps ordering stable across expiry for readers with a cursor. Rows
 * written before stay below every later one, so the order of existing messages is kept.
 */
export const m0002Broadcast: Migration = {
  version: 2,
  name: "broadcast",
  sql: `
ALTER TABLE queues ADD COLUMN broadcast INTEGER NOT NULL DEFAULT 0 CHECK (broadcast IN (0, 1));
`,
};
