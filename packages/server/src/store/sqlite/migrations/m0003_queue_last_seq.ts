import type { Migration } from "./index.js";

/**
 * A per-queue high-water mark for `messages.seq`, so a queue's positions never go backwards.
 *
 * Before this, a new message's `seq` was MAX(MAX(seq) + 1, expires_at) over the messages the queue
 * held: a unicast queue emptied by acks could hand out a lower position again within the same
 * rounding period, and a reader going by position (a live subscription) would skip the new message.
 * From this version `seq` is MAX(last_seq + 1, expires_at), and `last_seq` is raised to it in the
 * same transaction (SqliteStore.enqueue).
 *
 * What the column reveals: the largest `seq` the queue ever handed out. That value jumps to the
 * rounded expiry time in every period in which the queue receives a message and counts up by one
 * per message within that period, so it tells the rounded time of the queue's last message (which
 * `idle_until` shows anyway) and how many messages it received within that one rounding period: no
 * more than the `seq` of held messages shows, but it stays after those messages are acknowledged or
 * expired, until the queue itself is deleted. It never counts messages across periods.
 *
 * Existing queues start from the largest `seq` they hold (0 when empty, as the old rule assumed).
 */
export const m0003QueueLastSeq: Migration = {
  version: 3,
  name: "queue_last_seq",
  sql: `
ALTER TABLE queues ADD COLUMN last_seq INTEGER NOT NULL DEFAULT 0;
UPDATE queues SET last_seq = COALESCE(
  (SELECT MAX(seq) FROM messages WHERE messages.queue_id = queues.queue_id), 0);
`,
};
