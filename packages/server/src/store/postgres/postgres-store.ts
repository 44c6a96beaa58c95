/**
 * The PostgreSQL backend (node-postgres), for several relay nodes sharing one database. Every
 * method is one statement or one short transaction, so any node may serve any queue: the rules
 * that make a queue's positions never go backwards (SqliteStore.enqueue) hold here because an
 * enqueue raises `last_seq` and inserts its message in one statement that locks the queue's row, so
 * two nodes enqueueing to one queue commit in the order of the positions they take.
 *
 * Large bodies: kept in `messages.body` (bytea, stored out of line and uncompressed) up to the
 * relay's message cap (8 MiB by default); PostgreSQL's own limit for one value is 1 GiB. See
 * docs/relay-operations.md, "Running a cluster".
 */
import { createHash } from "node:crypto";
import { userInfo } from "node:os";
import pg from "pg";
import { asBuffer } from "../../bytes.js";
import { newId } from "../../ids.js";
import type { BlobIndex } from "../blob-index.js";
import {
  type CreateQueueOptions,
  capsFor,
  type DisclosedQueue,
  type Disclosure,
  type EnqueueOptions,
  type EnqueueResult,
  type ExpiryCounts,
  type FetchOptions,
  type NonceRecord,
  type QueueLimits,
  type QueueRecord,
  type QueueUsage,
  type Store,
  type StoredMessage,
  StoreUnavailableError,
} from "../store.js";
import { type PgMigration, pgMigrations } from "./migrations.js";
import { PostgresBlobIndex } from "./postgres-blob-index.js";

export class PgSchemaError extends Error {
  override name = "PgSchemaError";
}

export interface PostgresStoreOptions {
  /** A schema of its own (created if missing); default: the connection's search_path (`public`). */
  schema?: string;
  /** Most connections this node opens; default 16. */
  poolSize?: number;
  /** Check the schema only (`parley-server disclose`): never create or migrate anything. */
  readonly?: boolean;
  /** How long a request waits for a connection before failing (PostgreSQL down); default 10 s. */
  connectTimeoutMs?: number;
  /** Told when the pool loses a connection (PostgreSQL restarted, a backend terminated). */
  onConnectionError?: (error: Error) => void;
}

/** bigint as a JS number: every value the relay stores (ms times, counts) is a safe integer. */
const types = new pg.TypeOverrides();
types.setTypeParser(pg.types.builtins.INT8, (v: string) => Number(v));

const NO_CAP = Number.MAX_SAFE_INTEGER;
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Errors after which the statement certainly did not commit: retried. */
const RETRYABLE = new Set(["40P01", "40001"]);

/**
 * PostgreSQL's answers that mean "not now" rather than a fault of the statement: a connection
 * exception (class 08), too many connections, the server shutting down, crashed or starting.
 */
const UNAVAILABLE = /^(08...|53300|57P01|57P02|57P03)$/;

/** The system's errors for a connection refused, lost or not found. */
const SYSTEM_CONNECTION_ERRORS = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/**
 * A failure to reach PostgreSQL as a StoreUnavailableError; anything else as it was. `fromDriver`:
 * the error came out of node-postgres itself (a pool's query or connect, no code of ours inside), so
 * whatever it threw on its own, not a DatabaseError from the server, is the connection's: refused,
 * lost, or no connection free within the pool's timeout (its TypeErrors and RangeErrors are a
 * caller's bug). Otherwise only the server's codes and the system's connection errors count.
 */
function unavailable(e: unknown, fromDriver: boolean): unknown {
  if (e instanceof pg.DatabaseError)
    return UNAVAILABLE.test(e.code ?? "")
      ? new StoreUnavailableError(`PostgreSQL is not taking requests (${e.code})`, { cause: e })
      : e;
  if (!(e instanceof Error) || e instanceof TypeError || e instanceof RangeError) return e;
  const code = (e as { code?: unknown }).code;
  if (fromDriver || (typeof code === "string" && SYSTEM_CONNECTION_ERRORS.has(code)))
    return new StoreUnavailableError("PostgreSQL cannot be reached", { cause: e });
  return e;
}

interface QueueRow {
  queue_id: string;
  send_id: string;
  recipient_key: string;
  idle_until: number;
  broadcast: boolean;
  last_seq: number;
  msg_count: number;
  msg_bytes: number;
}

interface MessageRow {
  msg_id: string;
  body: Buffer;
  expires_at: number;
  seq: number;
}

const toQueue = (r: QueueRow): QueueRecord => ({
  queueId: r.queue_id,
  sendId: r.send_id,
  recipientKey: r.recipient_key,
  idleUntil: r.idle_until,
  broadcast: r.broadcast,
});

const toMessage = (r: MessageRow): StoredMessage => ({
  msgId: r.msg_id,
  body: r.body,
  expiresAt: r.expires_at,
  seq: r.seq,
});

const toNonce = (r: { scope: string; nonce: string; expires_at: number }): NonceRecord => ({
  scope: r.scope,
  nonce: r.nonce,
  expiresAt: r.expires_at,
});

/** A 63-bit advisory lock key from a name (and the schema: each schema locks on its own). */
function lockKey(name: string, schema: string): string {
  return createHash("sha256").update(`parley:${schema}:${name}`).digest().readBigInt64BE().toString();
}

/** An ack batch waiting for the next combined deletion (PostgresStore.ackMany). */
interface PendingAck {
  queueId: string;
  msgIds: readonly string[];
  resolve: (deleted: string[]) => void;
  reject: (error: unknown) => void;
}

/** Ids deleted by one statement at most (beyond, the rest wait for the next). */
const ACKS_PER_STATEMENT = 2048;

/** The statements run as named prepared statements (see PostgresStore.q): one text per name. */
type PreparedName = "enqueue" | "fetch_pending" | "ack" | "ack_many";

export class PostgresStore implements Store {
  private closed: Promise<void> | undefined;
  /** Blob metadata (the `blobs` table); the bytes are in the relay's BlobStore. */
  readonly blobs: BlobIndex = new PostgresBlobIndex((text, values) => this.q(text, values));

  private constructor(
    private readonly pool: pg.Pool,
    /** The schema the tables are in, as given (for lock keys); "" for the default search_path. */
    readonly schema: string,
  ) {}

  /**
   * Connects and brings the schema up to date (several nodes at once: one migrates, the others wait
   * for its lock and then find nothing to do).
   */
  static async open(connectionString: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const schema = options.schema ?? "";
    if (schema !== "" && !SCHEMA_NAME.test(schema)) {
      throw new PgSchemaError(`not a schema name this relay uses: "${schema}" (a-z, 0-9, _)`);
    }
    const pool = new pg.Pool({
      connectionString: withDefaultUser(connectionString),
      max: options.poolSize ?? 16,
      // Also how long a request waits for a free connection under load: not too short.
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
      idleTimeoutMillis: 30_000,
      // Short: a relay request never needs long, and a stuck one must not hold a connection.
      statement_timeout: 30_000,
      application_name: "parley-relay",
      types,
      ...(schema === "" ? {} : { options: `-c search_path=${schema}` }),
    });
    // An idle connection that dies (PostgreSQL restarted, backend terminated) is reported here;
    // unhandled, it would end the process. The pool replaces it on the next request.
    pool.on("error", (e) => options.onConnectionError?.(e));
    const store = new PostgresStore(pool, schema);
    try {
      if (options.readonly) await store.checkSchema();
      else await store.migrate();
    } catch (e) {
      await pool.end().catch(() => {});
      throw e;
    }
    return store;
  }

  /** Applies the migrations the schema lacks, in one transaction, under a cluster-wide lock. */
  async migrate(migrations: readonly PgMigration[] = pgMigrations): Promise<number> {
    return this.transaction(async (c) => {
      await c.query("SELECT pg_advisory_xact_lock($1)", [lockKey("migrate", this.schema)]);
      if (this.schema !== "") await c.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
      await c.query("CREATE TABLE IF NOT EXISTS parley_schema (version integer NOT NULL)");
      const current = await versionOf(c);
      if (current > migrations.length) {
        throw new PgSchemaError(
          `the database has schema version ${current}, newer than this relay knows (${migrations.length}): upgrade parley-server`,
        );
      }
      for (const m of migrations.slice(current)) await c.query(m.sql);
      await c.query("DELETE FROM parley_schema");
      await c.query("INSERT INTO parley_schema (version) VALUES ($1)", [migrations.length]);
      return migrations.length;
    });
  }

  private async checkSchema(): Promise<void> {
    const c = await this.pool.connect();
    try {
      const exists = await c.query("SELECT to_regclass('parley_schema') IS NOT NULL AS ok");
      const current = exists.rows[0].ok ? await versionOf(c) : 0;
      if (current !== pgMigrations.length) {
        throw new PgSchemaError(
          `the database has schema version ${current}, this relay expects ${pgMigrations.length}: ` +
            (current < pgMigrations.length ? "start the relay once to migrate it" : "upgrade parley-server"),
        );
      }
    } finally {
      c.release();
    }
  }

  /** Resolves if PostgreSQL answers within `timeoutMs` (for /healthz). */
  async ping(timeoutMs = 2000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.pool.query("SELECT 1"),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("PostgreSQL did not answer in time")), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
  }

  /**
   * Takes the cluster-wide lease `name` for `ms` if nobody holds it at `now`: true for exactly one
   * caller per period, whichever node asks first. A node that dies keeps it only until it lapses.
   */
  async claimLease(name: string, now: number, ms: number): Promise<boolean> {
    const r = await this.q(
      `INSERT INTO leases (name, until) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET until = EXCLUDED.until WHERE leases.until <= $3`,
      [name, now + ms, now],
    );
    return r.rowCount === 1;
  }

  /** Connections open and idle, and requests waiting for one (for /metrics). */
  poolStats(): { total: number; idle: number; waiting: number } {
    return { total: this.pool.totalCount, idle: this.pool.idleCount, waiting: this.pool.waitingCount };
  }

  async createQueue(
    recipientKey: string,
    idleUntil: number,
    options: CreateQueueOptions = {},
  ): Promise<{ queueId: string; sendId: string }> {
    const queueId = newId();
    const sendId = newId();
    await this.q(
      "INSERT INTO queues (queue_id, send_id, recipient_key, idle_until, broadcast) VALUES ($1, $2, $3, $4, $5)",
      [queueId, sendId, recipientKey, idleUntil, options.broadcast === true],
    );
    return { queueId, sendId };
  }

  async createRendezvousQueue(
    recipientKey: string,
    ids: { queueId: string; sendId: string },
    idleUntil: number,
  ): Promise<"created" | "exists" | "conflict"> {
    const inserted = await this.q(
      `INSERT INTO queues (queue_id, send_id, recipient_key, idle_until, broadcast)
         VALUES ($1, $2, $3, $4, true) ON CONFLICT DO NOTHING`,
      [ids.queueId, ids.sendId, recipientKey, idleUntil],
    );
    if (inserted.rowCount === 1) return "created";
    const existing = (
      await this.q<QueueRow>("SELECT * FROM queues WHERE queue_id = $1 OR send_id = $2", [
        ids.queueId,
        ids.sendId,
      ])
    ).rows;
    const same = (r: QueueRow) =>
      r.queue_id === ids.queueId &&
      r.send_id === ids.sendId &&
      r.recipient_key === recipientKey &&
      r.broadcast;
    if (existing.length === 0 || !existing.every(same)) return "conflict";
    await this.touchQueue(ids.queueId, idleUntil);
    return "exists";
  }

  async getQueue(queueId: string): Promise<QueueRecord | null> {
    const row = (await this.q<QueueRow>("SELECT * FROM queues WHERE queue_id = $1", [queueId])).rows[0];
    return row ? toQueue(row) : null;
  }

  async getQueueBySendId(sendId: string): Promise<QueueRecord | null> {
    const row = (await this.q<QueueRow>("SELECT * FROM queues WHERE send_id = $1", [sendId])).rows[0];
    return row ? toQueue(row) : null;
  }

  async touchQueue(queueId: string, idleUntil: number): Promise<void> {
    await this.q("UPDATE queues SET idle_until = $2 WHERE queue_id = $1 AND idle_until < $2", [
      queueId,
      idleUntil,
    ]);
  }

  async deleteQueue(queueId: string): Promise<boolean> {
    // Messages first, then the queue: the order ack and expiry lock in, so they cannot deadlock.
    return this.transaction(async (c) => {
      await c.query("DELETE FROM messages WHERE queue_id = $1", [queueId]);
      await c.query("DELETE FROM nonces WHERE scope = $1", [queueId]);
      return (await c.query("DELETE FROM queues WHERE queue_id = $1", [queueId])).rowCount === 1;
    });
  }

  async enqueue(
    sendId: string,
    body: Uint8Array,
    expiresAt: number,
    limits?: QueueLimits,
    options: EnqueueOptions = {},
  ): Promise<EnqueueResult> {
    const unicast = limits ? capsFor(limits, false) : { maxMessages: NO_CAP, maxBytes: NO_CAP };
    const broadcast = limits ? capsFor(limits, true) : unicast;
    for (let attempt = 0; ; attempt++) {
      const msgId = newId();
      // One statement: the queue's row is locked (`o`, which reads its position before this message:
      // an UPDATE's RETURNING sees only the new row, and a second read of the row in the UPDATE
      // could see an older version than the one updated), checked against the caps, given its next
      // position (after every position it ever handed out, and at least the rounded expiry time:
      // see SqliteStore.insertMessage) and the message inserted, or nothing happens. The lock costs
      // the backend about what the statement did before (store alone, 6,000 sends: 0.16–0.19 ms
      // each, with or without it), and keeps nothing more in the table.
      const r = await this.q<{ queue_id: string; seq: number; prev_seq: number }>(
        `WITH o AS (
           SELECT queue_id, last_seq FROM queues WHERE send_id = $1 FOR NO KEY UPDATE),
         q AS (
           UPDATE queues SET
             last_seq = GREATEST(o.last_seq + 1, $3::bigint),
             idle_until = GREATEST(queues.idle_until, $3::bigint),
             msg_count = queues.msg_count + 1,
             msg_bytes = queues.msg_bytes + $4::bigint
           FROM o
           WHERE queues.queue_id = o.queue_id
             AND queues.msg_count + 1 <= CASE WHEN queues.broadcast THEN $7::bigint ELSE $5::bigint END
             AND queues.msg_bytes + $4::bigint <= CASE WHEN queues.broadcast THEN $8::bigint ELSE $6::bigint END
           RETURNING queues.queue_id, queues.last_seq AS seq, o.last_seq AS prev_seq)
         INSERT INTO messages (queue_id, seq, msg_id, body, size, expires_at)
           SELECT queue_id, seq, $2, $9, $4::integer, $3::bigint FROM q
         RETURNING queue_id, seq, (SELECT prev_seq FROM q) AS prev_seq`,
        [
          sendId,
          msgId,
          expiresAt,
          body.length,
          unicast.maxMessages,
          unicast.maxBytes,
          broadcast.maxMessages,
          broadcast.maxBytes,
          asBuffer(body),
        ],
        "enqueue",
      );
      const stored = r.rows[0];
      if (stored) {
        // Committed (one statement): readable, and the body is in hand for the bus to carry.
        options.onReadable?.(stored.queue_id, {
          msgId,
          body,
          expiresAt,
          seq: stored.seq,
          prevSeq: stored.prev_seq,
        });
        return { status: "stored", queueId: stored.queue_id, msgId };
      }
      // Nothing stored: no such queue, or past a cap (read again to say which).
      const queue = (await this.q<QueueRow>("SELECT * FROM queues WHERE send_id = $1", [sendId])).rows[0];
      if (!queue) return { status: "unknown_queue" };
      const caps = queue.broadcast ? broadcast : unicast;
      const usage = { messages: queue.msg_count, bytes: queue.msg_bytes };
      if (queue.msg_count + 1 > caps.maxMessages)
        return { status: "queue_full", queueId: queue.queue_id, limit: "messages", usage };
      if (queue.msg_bytes + body.length > caps.maxBytes)
        return { status: "queue_full", queueId: queue.queue_id, limit: "bytes", usage };
      // It fits now: an ack or expiry made room in between. Try again (a few times at most).
      if (attempt >= 3) return { status: "queue_full", queueId: queue.queue_id, limit: "messages", usage };
    }
  }

  async queueUsage(queueId: string): Promise<QueueUsage | null> {
    const row = (
      await this.q<QueueRow>("SELECT msg_count, msg_bytes FROM queues WHERE queue_id = $1", [queueId])
    ).rows[0];
    return row ? { messages: row.msg_count, bytes: row.msg_bytes } : null;
  }

  async fetchPending(queueId: string, options: FetchOptions): Promise<StoredMessage[]> {
    // The running total of sizes decides what fits in maxBytes (the first row always does); rows
    // past it are never read out of line (their bodies stay in TOAST).
    const limit = Math.max(0, Math.floor(options.limit));
    const rows = (
      await this.q<MessageRow & { read: number }>(
        `SELECT msg_id, body, expires_at, seq, read FROM (
           SELECT msg_id, expires_at, seq, body,
                  SUM(size) OVER (ORDER BY seq) AS upto,
                  ROW_NUMBER() OVER (ORDER BY seq) AS n,
                  COUNT(*) OVER () AS read
             FROM (SELECT * FROM messages WHERE queue_id = $1 AND seq > $2 ORDER BY seq LIMIT $3) m
         ) w WHERE n = 1 OR upto <= $4 ORDER BY seq`,
        [queueId, options.afterSeq ?? Number.MIN_SAFE_INTEGER, limit, options.maxBytes ?? NO_CAP],
        "fetch_pending",
      )
    ).rows;
    // `read`: the rows the inner scan found (before maxBytes), the same on every row.
    if (options.page)
      options.page.more = rows.length > 0 && (rows[0]!.read >= limit || rows.length < rows[0]!.read);
    return rows.map(toMessage);
  }

  async positionOf(queueId: string, msgId: string): Promise<number | null> {
    const row = (
      await this.q<{ seq: number }>("SELECT seq FROM messages WHERE queue_id = $1 AND msg_id = $2", [
        queueId,
        msgId,
      ])
    ).rows[0];
    return row ? row.seq : null;
  }

  async ack(queueId: string, msgId: string): Promise<boolean> {
    // A broadcast queue's messages are read by every member: one member's ack deletes nothing.
    const r = await this.q(
      `WITH d AS (
         DELETE FROM messages m USING queues q
           WHERE m.queue_id = $1 AND m.msg_id = $2 AND q.queue_id = m.queue_id AND NOT q.broadcast
           RETURNING m.size)
       UPDATE queues SET msg_count = msg_count - 1, msg_bytes = msg_bytes - d.size
         FROM d WHERE queue_id = $1`,
      [queueId, msgId],
      "ack",
    );
    return r.rowCount === 1;
  }

  /**
   * The deletions of every ack batch this node receives in the same moment go in one statement: one
   * ack statement (a commit, a WAL flush, a round trip) cost the backend about 0.55 ms whatever its
   * few ids, more than a message's insert, and on a cluster acks come a few ids at a time (a
   * subscription pushes each message as it is announced). One statement runs at a time; the acks
   * that arrive meanwhile go in the next, so under load a statement carries the acks of many queues.
   * Answered once their statement has committed, as before.
   */
  async ackMany(queueId: string, msgIds: readonly string[]): Promise<string[]> {
    if (msgIds.length === 0) return [];
    return new Promise<string[]>((resolve, reject) => {
      this.acks.push({ queueId, msgIds, resolve, reject });
      if (this.acking) return;
      this.acking = true;
      setImmediate(() => void this.deleteAcked());
    });
  }

  private readonly acks: PendingAck[] = [];
  private acking = false;

  private async deleteAcked(): Promise<void> {
    while (this.acks.length > 0) {
      let ids = 0;
      let take = 0;
      while (
        take < this.acks.length &&
        (take === 0 || ids + this.acks[take]!.msgIds.length <= ACKS_PER_STATEMENT)
      )
        ids += this.acks[take++]!.msgIds.length;
      const batch = this.acks.splice(0, take);
      const queueIds: string[] = [];
      const msgIds: string[] = [];
      for (const a of batch)
        for (const id of a.msgIds) {
          queueIds.push(a.queueId);
          msgIds.push(id);
        }
      try {
        // One statement: the deletions and each queue's counters move together (as in ack).
        const r = await this.q<{ queue_id: string; msg_id: string }>(
          `WITH i AS (SELECT * FROM unnest($1::text[], $2::text[]) AS t(queue_id, msg_id)),
           d AS (
             DELETE FROM messages m USING i, queues q
               WHERE m.queue_id = i.queue_id AND m.msg_id = i.msg_id AND q.queue_id = m.queue_id
                 AND NOT q.broadcast
               RETURNING m.queue_id, m.msg_id, m.size),
           n AS (SELECT queue_id, count(*) AS count, sum(size) AS bytes FROM d GROUP BY queue_id),
           u AS (
             UPDATE queues SET msg_count = queues.msg_count - n.count, msg_bytes = queues.msg_bytes - n.bytes
               FROM n WHERE queues.queue_id = n.queue_id)
           SELECT queue_id, msg_id FROM d`,
          [queueIds, msgIds],
          "ack_many",
        );
        // Each deleted message is reported to the first ack that named it (a repeat finds it gone).
        const deleted = new Set(r.rows.map((row) => `${row.queue_id} ${row.msg_id}`));
        for (const a of batch) {
          const mine: string[] = [];
          for (const id of a.msgIds) if (deleted.delete(`${a.queueId} ${id}`)) mine.push(id);
          a.resolve(mine);
        }
      } catch (e) {
        for (const a of batch) a.reject(e);
      }
    }
    this.acking = false;
  }

  async rememberNonce(scope: string, nonce: string, expiresAt: number): Promise<boolean> {
    const r = await this.q(
      "INSERT INTO nonces (scope, nonce, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
      [scope, nonce, expiresAt],
    );
    return r.rowCount === 1;
  }

  async createInvite(blob: Uint8Array, expiresAt: number): Promise<string> {
    const inviteId = newId();
    await this.q("INSERT INTO invites (invite_id, blob, expires_at) VALUES ($1, $2, $3)", [
      inviteId,
      asBuffer(blob),
      expiresAt,
    ]);
    return inviteId;
  }

  async peekInvite(inviteId: string, now: number): Promise<Uint8Array | null> {
    const row = (
      await this.q<{ blob: Buffer }>("SELECT blob FROM invites WHERE invite_id = $1 AND expires_at > $2", [
        inviteId,
        now,
      ])
    ).rows[0];
    return row ? row.blob : null;
  }

  async claimInvite(inviteId: string, now: number): Promise<Uint8Array | null> {
    // One statement: two concurrent claims (on any nodes) cannot both get the blob.
    const row = (
      await this.q<{ blob: Buffer; expires_at: number }>(
        "DELETE FROM invites WHERE invite_id = $1 RETURNING blob, expires_at",
        [inviteId],
      )
    ).rows[0];
    if (!row || row.expires_at <= now) return null;
    return row.blob;
  }

  async expire(now: number): Promise<ExpiryCounts> {
    // Messages before queues (the order ack locks in). Each queue's counters go down in the same
    // statement that deletes its messages.
    const expired = await this.q<{ n: number }>(
      `WITH gone AS (DELETE FROM messages WHERE expires_at <= $1 RETURNING queue_id, size),
            per AS (SELECT queue_id, COUNT(*) AS n, SUM(size) AS bytes FROM gone GROUP BY queue_id),
            upd AS (UPDATE queues SET msg_count = msg_count - per.n, msg_bytes = msg_bytes - per.bytes
                      FROM per WHERE queues.queue_id = per.queue_id RETURNING per.n)
       SELECT COALESCE(SUM(n), 0)::bigint AS n FROM upd`,
      [now],
    );
    const queues = await this.transaction(async (c) => {
      await c.query(
        "DELETE FROM messages WHERE queue_id IN (SELECT queue_id FROM queues WHERE idle_until <= $1)",
        [now],
      );
      return (await c.query("DELETE FROM queues WHERE idle_until <= $1", [now])).rowCount ?? 0;
    });
    const invites = (await this.q("DELETE FROM invites WHERE expires_at <= $1", [now])).rowCount ?? 0;
    const nonces = (await this.q("DELETE FROM nonces WHERE expires_at <= $1", [now])).rowCount ?? 0;
    return { messages: expired.rows[0]?.n ?? 0, queues, invites, nonces };
  }

  /** PostgreSQL's autovacuum reclaims the space of deleted rows: nothing to do here. */
  async compact(): Promise<number> {
    return 0;
  }

  /**
   * The bytes of the message bodies and invites held (from the per-queue counters), not of the
   * tables' files: PostgreSQL keeps deleted rows' space until vacuum and reuses it, so the files'
   * size says little about what the relay holds. Watch the database server's disk with its own
   * monitoring (docs/relay-operations.md).
   */
  async storageBytes(): Promise<number> {
    const row = (
      await this.q<{ n: number }>(
        `SELECT ((SELECT COALESCE(SUM(msg_bytes), 0) FROM queues)
               + (SELECT COALESCE(SUM(octet_length(blob)), 0) FROM invites))::bigint AS n`,
      )
    ).rows[0];
    return row?.n ?? 0;
  }

  async disclose(idOrKey: string): Promise<Disclosure> {
    return this.transaction(async (c) => {
      const queueRows = (
        await c.query<QueueRow>(
          'SELECT * FROM queues WHERE queue_id = $1 OR send_id = $1 OR recipient_key = $1 ORDER BY queue_id COLLATE "C"',
          [idOrKey],
        )
      ).rows;
      const noncesOf = async (scope: string) =>
        (
          await c.query<{ scope: string; nonce: string; expires_at: number }>(
            'SELECT scope, nonce, expires_at FROM nonces WHERE scope = $1 ORDER BY expires_at, nonce COLLATE "C"',
            [scope],
          )
        ).rows.map(toNonce);
      const scopesShown = new Set<string>();
      const queues: DisclosedQueue[] = [];
      for (const row of queueRows) {
        scopesShown.add(row.queue_id);
        scopesShown.add(row.recipient_key);
        const messages = (
          await c.query<MessageRow>(
            "SELECT msg_id, body, expires_at, seq FROM messages WHERE queue_id = $1 ORDER BY seq",
            [row.queue_id],
          )
        ).rows.map(toMessage);
        queues.push({
          ...toQueue(row),
          lastSeq: row.last_seq,
          messages,
          nonces: [...(await noncesOf(row.queue_id)), ...(await noncesOf(row.recipient_key))],
        });
      }
      const invites = (
        await c.query<{ invite_id: string; blob: Buffer; expires_at: number }>(
          "SELECT invite_id, blob, expires_at FROM invites WHERE invite_id = $1",
          [idOrKey],
        )
      ).rows.map((r) => ({ inviteId: r.invite_id, blob: r.blob, expiresAt: r.expires_at }));
      const nonces = scopesShown.has(idOrKey) ? [] : await noncesOf(idOrKey);
      return { queues, invites, nonces };
    });
  }

  async close(): Promise<void> {
    this.closed ??= this.pool.end();
    return this.closed;
  }

  /** One statement; retried when PostgreSQL rolled it back for a deadlock or serialization failure. */
  /**
   * `prepared`: the statement is a named prepared statement (one per connection, made on its first
   * use), so PostgreSQL parses and plans it once per connection instead of on every run. For the
   * statements of every message (enqueue, the subscription's read, ack): parsing and planning their
   * CTEs again each time was a third of the backends' CPU per message (0.75 → 0.5 ms, store alone).
   * Their result columns are named, never `*`, so a later migration cannot change them under a
   * cached plan.
   */
  private async q<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values: unknown[] = [],
    prepared?: PreparedName,
  ): Promise<pg.QueryResult<R>> {
    const query = prepared === undefined ? text : { name: `parley_${prepared}`, text };
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.pool.query<R>(query, values);
      } catch (e) {
        if (!RETRYABLE.has((e as { code?: string }).code ?? "") || attempt >= 4) throw unavailable(e, true);
      }
    }
  }

  private async transaction<T>(work: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      let c: pg.PoolClient;
      try {
        c = await this.pool.connect();
      } catch (e) {
        throw unavailable(e, true);
      }
      let broken = false;
      try {
        await c.query("BEGIN");
        const result = await work(c);
        await c.query("COMMIT");
        return result;
      } catch (e) {
        await c.query("ROLLBACK").catch(() => {
          broken = true;
        });
        if (!RETRYABLE.has((e as { code?: string }).code ?? "") || attempt >= 4) throw unavailable(e, false);
      } finally {
        c.release(broken);
      }
    }
  }
}

/**
 * A URL without a user name connects as PGUSER or the operating system's user, as libpq does
 * (node-postgres would read USER, which a service manager may not set).
 */
function withDefaultUser(connectionString: string): string {
  let url: URL;
  try {
    url = new URL(connectionString);
  } catch {
    return connectionString;
  }
  if (url.username !== "" || url.searchParams.has("user")) return connectionString;
  url.username = encodeURIComponent(process.env.PGUSER ?? userInfo().username);
  return url.toString();
}

async function versionOf(c: pg.PoolClient): Promise<number> {
  const r = await c.query<{ version: number }>("SELECT version FROM parley_schema");
  return r.rows[0]?.version ?? 0;
}
