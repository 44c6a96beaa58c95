import type { Migration } from "./index.js";

/**
 * Ids are kept as text (as they travel on the wire), bodies as blobs, times as integer
 * milliseconds already rounded by the relay. Nothing about senders, connections or addresses.
 *
 * Tables with large rows (messages, invites) are rowid tables whose rowid the store picks at
 * random, so their physical order does not record which queue received a message before which.
 * Small tables are WITHOUT ROWID and ordered by their random ids for the same reason.
 *
 * The note on `seq` below is out of date (the SQL is left as applied): since m0003 a queue's
 * positions never restart; `queues.last_seq` keeps the largest one handed out (see that migration
 * for what it reveals).
 */
export const m0001Initial: Migration = {
  version: 1,
  name: "initial",
  sql: `
CREATE TABLE queues (
  queue_id      TEXT NOT NULL PRIMARY KEY,
  send_id       TEXT NOT NULL UNIQUE,
  recipient_key TEXT NOT NULL,
  idle_until    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX queues_recipient_key ON queues (recipient_key);
CREATE INDEX queues_idle_until ON queues (idle_until);

-- seq orders the messages of one queue; it restarts when a queue is empty, so it never counts
-- how many messages a queue has ever received.
CREATE TABLE messages (
  queue_id   TEXT NOT NULL REFERENCES queues (queue_id) ON DELETE CASCADE,
  seq        INTEGER NOT NULL,
  msg_id     TEXT NOT NULL,
  body       BLOB NOT NULL,
  expires_at INTEGER NOT NULL,
  UNIQUE (queue_id, seq),
  UNIQUE (queue_id, msg_id)
);
CREATE INDEX messages_expires_at ON messages (expires_at);

CREATE TABLE invites (
  invite_id  TEXT NOT NULL UNIQUE,
  blob       BLOB NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX invites_expires_at ON invites (expires_at);

-- scope is the queue id of a recipient command, or the recipient key of a queue creation.
CREATE TABLE nonces (
  scope      TEXT NOT NULL,
  nonce      TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (scope, nonce)
) WITHOUT ROWID;
CREATE INDEX nonces_expires_at ON nonces (expires_at);
`,
};
