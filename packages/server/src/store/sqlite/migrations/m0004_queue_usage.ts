import type { Migration } from "./index.js";

/**
 * Per-queue usage counters for the quotas (`--max-queue-messages`, `--max-queue-bytes`): how many
 * messages a queue holds right now and the bytes of their bodies. SqliteStore updates them in the
 * same transaction as every change to `messages` (enqueue, ack, expiry; deleting a queue deletes
 * its row), so a send can be checked against the caps without counting rows.
 *
 * What they reveal: nothing the `messages` table does not show already (the rows held and their
 * sizes); they describe only what is pending now, never what a queue has ever received.
 *
 * Existing queues are counted from the messages they hold.
 */
export const m0004QueueUsage: Migration = {
  version: 4,
  name: "queue_usage",
  sql: `
ALTER TABLE queues ADD COLUMN msg_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE queues ADD COLUMN msg_bytes INTEGER NOT NULL DEFAULT 0;
UPDATE queues SET
  msg_count = (SELECT COUNT(*) FROM messages WHERE messages.queue_id = queues.queue_id),
  msg_bytes = (SELECT COALESCE(SUM(length(body)), 0) FROM messages WHERE messages.queue_id = queues.queue_id);
`,
};
