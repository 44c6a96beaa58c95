/**
 * PostgreSQL schema migrations, one numbered step each (the SQLite store has its own list). Applied
 * at start by `migrate` under an advisory lock, so several relay nodes starting at once apply each
 * step exactly once. Add a step by appending it; never edit an applied one.
 *
 * Ids are text (as on the wire), bodies bytea, times bigint milliseconds already rounded by the
 * relay. Nothing about senders, connections or addresses. Bodies are stored EXTERNAL (out of line,
 * uncompressed): padded ciphertext does not compress, so trying would only cost CPU.
 */
export interface PgMigration {
  version: number;
  name: string;
  sql: string;
}

export const pgMigrations: readonly PgMigration[] = [
  {
    version: 1,
    name: "initial",
    sql: `
CREATE TABLE queues (
  queue_id      text    NOT NULL PRIMARY KEY,
  send_id       text    NOT NULL UNIQUE,
  recipient_key text    NOT NULL,
  idle_until    bigint  NOT NULL,
  broadcast     boolean NOT NULL DEFAULT false,
  -- The largest position handed out (see the SQLite store's m0003 for what it reveals).
  last_seq      bigint  NOT NULL DEFAULT 0,
  -- What the queue holds now, for the quotas (see the SQLite store's m0004).
  msg_count     bigint  NOT NULL DEFAULT 0,
  msg_bytes     bigint  NOT NULL DEFAULT 0
);
CREATE INDEX queues_recipient_key ON queues (recipient_key);
CREATE INDEX queues_idle_until ON queues (idle_until);

CREATE TABLE messages (
  queue_id   text    NOT NULL REFERENCES queues (queue_id) ON DELETE CASCADE,
  seq        bigint  NOT NULL,
  msg_id     text    NOT NULL,
  body       bytea   NOT NULL,
  size       integer NOT NULL,
  expires_at bigint  NOT NULL,
  PRIMARY KEY (queue_id, seq),
  UNIQUE (queue_id, msg_id)
);
ALTER TABLE messages ALTER COLUMN body SET STORAGE EXTERNAL;
CREATE INDEX messages_expires_at ON messages (expires_at);

CREATE TABLE invites (
  invite_id  text   NOT NULL PRIMARY KEY,
  blob       bytea  NOT NULL,
  expires_at bigint NOT NULL
);
CREATE INDEX invites_expires_at ON invites (expires_at);

-- scope is the queue id of a recipient command, or the recipient key of a queue creation.
CREATE TABLE nonces (
  scope      text   NOT NULL,
  nonce      text   NOT NULL,
  expires_at bigint NOT NULL,
  PRIMARY KEY (scope, nonce)
);
CREATE INDEX nonces_expires_at ON nonces (expires_at);

-- Cluster-wide leases (the expiry sweep): a name and until when its current holder has it.
CREATE TABLE leases (
  name  text   NOT NULL PRIMARY KEY,
  until bigint NOT NULL
);
`,
  },
  {
    version: 2,
    name: "blobs",
    // File attachments' metadata (the SQLite store's m0006): sizes, progress, expiry and hashes of
    // the capabilities; nothing about who uploads or downloads.
    sql: `
CREATE TABLE blobs (
  blob_id         text    NOT NULL PRIMARY KEY,
  size            bigint  NOT NULL,
  received        bigint  NOT NULL DEFAULT 0,
  complete        boolean NOT NULL DEFAULT false,
  expires_at      bigint  NOT NULL,
  write_cap_hash  text    NOT NULL,
  delete_cap_hash text    NOT NULL
);
CREATE INDEX blobs_expires_at ON blobs (expires_at);
`,
  },
  {
    version: 3,
    name: "blob_tombstones",
    // Blobs deleted early keep their row, flagged, until their expiry (the SQLite store's m0007).
    sql: `
ALTER TABLE blobs ADD COLUMN deleted boolean NOT NULL DEFAULT false;
`,
  },
];
