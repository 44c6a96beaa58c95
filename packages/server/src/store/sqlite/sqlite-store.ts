import { dirname, join } from "node:path";
import Database from "better-sqlite3";
import { asBuffer } from "../../bytes.js";
import { newId } from "../../ids.js";
import type { BlobIndex } from "../blob-index.js";
import type {
  BodyBuffers,
  CreateQueueOptions,
  DisclosedQueue,
  Disclosure,
  EnqueueOptions,
  EnqueueResult,
  ExpiryCounts,
  FetchOptions,
  QueueLimits,
  QueueRecord,
  QueueUsage,
  Store,
  StoredMessage,
} from "../store.js";
import { BodyFiles } from "./body-files.js";
import { Checkpointer } from "./checkpointer.js";
import { GroupCommit } from "./group-commit.js";
import { checkSchema, migrate, schemaVersion } from "./migrate.js";
import {
  EMPTY,
  type FileRow,
  isRowidClash,
  MESSAGE_COLUMNS,
  type MessageRow,
  type QueueRow,
  randomRowid,
  refusalFor,
  type SendQueueRow,
  toMessage,
  toNonce,
  toQueue,
} from "./rows.js";
import { SqliteBlobIndex } from "./sqlite-blob-index.js";
import { WalSync } from "./wal-sync.js";

/** `PRAGMA auto_vacuum` value of INCREMENTAL. */
const AUTO_VACUUM_INCREMENTAL = 2;
/**
 * The database's page size; SQLite's default is 4 KiB. A 2 KiB message (the common padded size)
 * left one row per 4 KiB page: with random rowids (below) nearly every insert split a page and
 * every commit wrote a WAL frame per message for the table alone, plus its pointer-map and index
 * pages. With 16 KiB pages a leaf holds seven, and one node relayed 1.18–1.3× the messages at
 * 20% less CPU each (bench cluster, interleaved runs; 8 KiB and 32 KiB in between).
 */
export const PAGE_SIZE = 16 * 1024;
/**
 * Bytes of free pages given back to the filesystem per `compact` (each sweep): 64 MiB a minute,
 * 3.75 GiB an hour, in steps short enough not to stall the relay for long.
 */
const COMPACT_BYTES = 64 * 1024 * 1024;
/**
 * The sweep empties the WAL file (`compact`, on the checkpoint thread) once it is larger than this,
 * or when pages were released. Not at each commit (`journal_size_limit`): there SQLite truncated it
 * on the relay's thread in the commit that restarted the WAL, and on a filesystem mounted with
 * `discard` that truncation waits for the device (50–150 ms), after which the next writes extend
 * the file again and wait on its block allocation behind the WAL's own fsync (perf: the relay's
 * thread asleep in `ftruncate` and in ext4's allocation inside `pwrite`). Under load the WAL starts
 * over at its beginning every 64 MiB (checkpointer.ts, WAL_RESTART_BYTES).
 */
const WAL_KEEP_BYTES = 64 * 1024 * 1024;

/** Bodies above this size are kept in files beside the database (see body-files.ts). */
export const INLINE_BODY_MAX_BYTES = 64 * 1024;

export interface SqliteStoreOptions {
  /** Open an existing database for reading only (the `disclose` command); never migrates. */
  readonly?: boolean;
  /**
   * Where bodies larger than `inlineBodyMaxBytes` are kept. Default: `relay-bodies/` beside the
   * database file; none for ":memory:" (every body stays in the database, which is in memory).
   */
  bodiesDir?: string;
  /** Default INLINE_BODY_MAX_BYTES; tests set it low to put every body in a file. */
  inlineBodyMaxBytes?: number;
  /**
   * Told when a message's body file is missing though its row is there (the file was removed or
   * lost outside the relay). The message is then skipped by reads; expiry removes its row.
   */
  onMissingBody?: (queueId: string, msgId: string) => void;
}

/**
 * The SQLite backend (better-sqlite3, WAL). Every method runs synchronously inside SQLite, so each
 * is atomic on its own; multi-statement steps use a transaction.
 */
export class SqliteStore implements Store {
  private closed = false;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly db: Database.Database;
  private readonly writes: GroupCommit;
  /** The position of the message insertMessage stored last (read right after it, in the same write). */
  private insertedSeq = 0;
  /** The queue's last position before that message (its `prevSeq`). */
  private insertedPrevSeq = 0;
  /** Bytes of the bodies kept in files (counted at open, then kept up to date): see storageBytes. */
  private fileBytes = 0;
  /** Blob metadata (the `blobs` table); the bytes are in the relay's BlobStore. */
  readonly blobs: BlobIndex;

  private constructor(
    db: Database.Database,
    private readonly bodies: BodyFiles | null,
    /** Null: nothing to sync (in memory, or read-only). */
    private readonly wal: WalSync | null,
    /** Null: no file (in memory) or read-only. */
    private readonly checkpointer: Checkpointer | null,
    private readonly inlineMax: number,
    private readonly onMissingBody: (queueId: string, msgId: string) => void,
  ) {
    this.db = db;
    this.writes = new GroupCommit(db, wal);
    checkpointer?.setWriteGate(this.writes);
    this.blobs = new SqliteBlobIndex(db, (work) => this.writes.add(work));
  }

  /** Opens (creating and migrating if needed) the database at `path`; ":memory:" for a throwaway one. */
  static open(path: string, options: SqliteStoreOptions = {}): SqliteStore {
    const readonly = options.readonly === true;
    const db = new Database(path, readonly ? { readonly: true, fileMustExist: true } : {});
    try {
      db.pragma("busy_timeout = 5000");
      if (readonly) {
        checkSchema(db);
      } else {
        // Deleted data's pages are given back to the filesystem by `compact` (incremental_vacuum);
        // without this mode SQLite keeps them in the file for ever. A new database gets the mode
        // before its first table; an existing one is converted once by VACUUM, which rewrites the
        // whole file (time and free disk space about the size of the database; see
        // docs/relay-operations.md).
        // The page size likewise (PAGE_SIZE): set before the first table of a new database; an
        // existing one is rewritten once, by the same VACUUM, outside WAL mode (in which SQLite
        // cannot change it).
        const fresh = schemaVersion(db) === 0;
        if (fresh) db.pragma(`page_size = ${PAGE_SIZE}`);
        const vacuum =
          db.pragma("auto_vacuum", { simple: true }) !== AUTO_VACUUM_INCREMENTAL ||
          db.pragma("page_size", { simple: true }) !== PAGE_SIZE;
        db.pragma("auto_vacuum = INCREMENTAL");
        if (vacuum && !fresh) {
          db.pragma("journal_mode = DELETE");
          db.pragma(`page_size = ${PAGE_SIZE}`);
          db.exec("VACUUM");
        }
        db.pragma("journal_mode = WAL");
        // The sweep cuts the WAL file back (compact, WAL_KEEP_BYTES), not each commit.
        db.pragma("journal_size_limit = -1");
        // A 202 to a sender means the message is on disk, even across a power cut: a write's promise
        // resolves once WalSync has fsync'd the WAL, off the event loop (see wal-sync.ts); an
        // in-memory database has no disk to wait for. The relay's connection itself syncs nothing
        // (OFF) while the checkpoint thread runs, and NORMAL otherwise (checkpointer.ts says why).
        db.pragma(path === ":memory:" || path === "" ? "synchronous = FULL" : "synchronous = NORMAL");
        db.pragma("foreign_keys = ON");
        // Acknowledged and expired ciphertext is overwritten, not left in free pages.
        db.pragma("secure_delete = ON");
        migrate(db);
      }
    } catch (e) {
      db.close();
      throw e;
    }
    const bodiesDir =
      options.bodiesDir ??
      (path === ":memory:" || path === "" ? undefined : join(dirname(path), "relay-bodies"));
    let bodies: BodyFiles | null = null;
    try {
      bodies = bodiesDir === undefined ? null : new BodyFiles(bodiesDir, !readonly);
    } catch (e) {
      db.close();
      throw e;
    }
    const checkpointer = readonly || path === ":memory:" || path === "" ? null : new Checkpointer(path, db);
    const store = new SqliteStore(
      db,
      bodies,
      checkpointer && new WalSync(`${path}-wal`, checkpointer),
      checkpointer,
      options.inlineBodyMaxBytes ?? INLINE_BODY_MAX_BYTES,
      options.onMissingBody ?? (() => {}),
    );
    store.fileBytes = (
      db.prepare("SELECT COALESCE(SUM(size), 0) AS n FROM messages WHERE body_file IS NOT NULL").get() as {
        n: number;
      }
    ).n;
    if (bodies && !readonly) {
      // A crash between writing a body file and committing its row leaves the file alone: remove it.
      const named = db.prepare("SELECT 1 FROM messages WHERE body_file = ?").pluck();
      void bodies.remove(bodies.orphans((name) => named.get(name) !== undefined));
    }
    return store;
  }

  async createQueue(
    recipientKey: string,
    idleUntil: number,
    options: CreateQueueOptions = {},
  ): Promise<{ queueId: string; sendId: string }> {
    const queueId = newId();
    const sendId = newId();
    return this.batchedWrite(() => {
      this.sql(
        "INSERT INTO queues (queue_id, send_id, recipient_key, idle_until, broadcast) VALUES (?, ?, ?, ?, ?)",
      ).run(queueId, sendId, recipientKey, idleUntil, options.broadcast === true ? 1 : 0);
      return { queueId, sendId };
    });
  }

  async createRendezvousQueue(
    recipientKey: string,
    ids: { queueId: string; sendId: string },
    idleUntil: number,
  ): Promise<"created" | "exists" | "conflict"> {
    return this.db.transaction(() => {
      const existing = this.sql(
        "SELECT queue_id, send_id, recipient_key, broadcast FROM queues WHERE queue_id = ? OR send_id = ?",
      ).all(ids.queueId, ids.sendId) as QueueRow[];
      if (existing.length > 0) {
        const same = (r: QueueRow) =>
          r.queue_id === ids.queueId &&
          r.send_id === ids.sendId &&
          r.recipient_key === recipientKey &&
          r.broadcast === 1;
        if (!existing.every(same)) return "conflict";
        this.sql("UPDATE queues SET idle_until = ? WHERE queue_id = ? AND idle_until < ?").run(
          idleUntil,
          ids.queueId,
          idleUntil,
        );
        return "exists";
      }
      this.sql(
        "INSERT INTO queues (queue_id, send_id, recipient_key, idle_until, broadcast) VALUES (?, ?, ?, ?, 1)",
      ).run(ids.queueId, ids.sendId, recipientKey, idleUntil);
      return "created";
    })();
  }

  async getQueue(queueId: string): Promise<QueueRecord | null> {
    const row = this.sql("SELECT * FROM queues WHERE queue_id = ?").get(queueId) as QueueRow | undefined;
    return row ? toQueue(row) : null;
  }

  async getQueueBySendId(sendId: string): Promise<QueueRecord | null> {
    const row = this.sql("SELECT * FROM queues WHERE send_id = ?").get(sendId) as QueueRow | undefined;
    return row ? toQueue(row) : null;
  }

  async touchQueue(queueId: string, idleUntil: number): Promise<void> {
    // The condition keeps this a no-op (no disk write) while the rounded time has not moved.
    await this.batchedWrite(() =>
      this.sql("UPDATE queues SET idle_until = ? WHERE queue_id = ? AND idle_until < ?").run(
        idleUntil,
        queueId,
        idleUntil,
      ),
    );
  }

  async deleteQueue(queueId: string): Promise<boolean> {
    const { deleted, files } = this.db.transaction(() => {
      const files = this.sql("DELETE FROM messages WHERE queue_id = ? RETURNING body_file AS name, size").all(
        queueId,
      ) as FileRow[];
      this.sql("DELETE FROM nonces WHERE scope = ?").run(queueId);
      return { deleted: this.sql("DELETE FROM queues WHERE queue_id = ?").run(queueId).changes === 1, files };
    })();
    this.dropFiles(files);
    return deleted;
  }

  async enqueue(
    sendId: string,
    body: Uint8Array,
    expiresAt: number,
    limits?: QueueLimits,
    options: EnqueueOptions = {},
  ): Promise<EnqueueResult> {
    const readable = (r: EnqueueResult) => {
      if (r.status === "stored") options.onReadable?.(r.queueId);
    };
    if (!this.bodies || body.length <= this.inlineMax) {
      // The body is in hand: subscribers of this process get the message with its announcement
      // (Bus.publish) and push it without reading it back from the database.
      let seq = 0;
      let prevSeq = 0;
      return this.writes.add(
        () => {
          const r = this.insertMessage(sendId, body, null, body.length, expiresAt, limits);
          seq = this.insertedSeq;
          prevSeq = this.insertedPrevSeq;
          return r;
        },
        (r) => {
          if (r.status === "stored")
            options.onReadable?.(r.queueId, { msgId: r.msgId, body, expiresAt, seq, prevSeq });
        },
      );
    }
    // A large body: refused on what is known now without writing it, else written to its file
    // (off the event loop), then its row committed in the next batch, where the caps are checked
    // again; the file goes if the row does not land.
    const refusal = refusalFor(this.queueForSend(sendId), body.length, limits);
    if (refusal) return refusal;
    const file = await this.bodies.write(body);
    let result: EnqueueResult;
    try {
      result = await this.writes.add(
        () => this.insertMessage(sendId, EMPTY, file, body.length, expiresAt, limits),
        readable,
      );
    } catch (e) {
      await this.bodies.remove([file]);
      throw e;
    }
    if (result.status === "stored") this.fileBytes += body.length;
    else await this.bodies.remove([file]);
    return result;
  }

  private queueForSend(sendId: string): SendQueueRow | undefined {
    return this.sql(
      "SELECT queue_id, last_seq, msg_count, msg_bytes, broadcast FROM queues WHERE send_id = ?",
    ).get(sendId) as SendQueueRow | undefined;
  }

  /** Inside a write transaction: checks the caps and stores the message (its body inline or in `file`). */
  private insertMessage(
    sendId: string,
    body: Uint8Array,
    file: string | null,
    size: number,
    expiresAt: number,
    limits: QueueLimits | undefined,
  ): EnqueueResult {
    const queue = this.queueForSend(sendId);
    const refusal = refusalFor(queue, size, limits);
    if (refusal || !queue) return refusal ?? { status: "unknown_queue" };
    // After every position the queue has ever handed out (`last_seq`, raised below in this
    // transaction), and at least the message's own (rounded) expiry time. So positions never go
    // backwards, even once acks or expiry have emptied the queue, and a reader going by position
    // (a subscription, a broadcast cursor) never skips a new message. Expiry times grow with
    // arrival, so in each rounding period the floor jumps past every earlier position: within one
    // period `seq` counts up from the rounded time, which `expires_at` records anyway (see
    // migrations/m0003_queue_last_seq.ts for what `last_seq` reveals).
    const seq = Math.max(queue.last_seq + 1, expiresAt);
    const msgId = newId();
    const insert = this.sql(
      `INSERT INTO messages (rowid, queue_id, seq, msg_id, body, body_file, size, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertWithRandomRowid((rowid) =>
      insert.run(rowid, queue.queue_id, seq, msgId, asBuffer(body), file, size, expiresAt),
    );
    // A queue lives at least as long as the messages in it.
    this.sql(
      `UPDATE queues SET last_seq = ?, idle_until = MAX(idle_until, ?),
         msg_count = msg_count + 1, msg_bytes = msg_bytes + ? WHERE queue_id = ?`,
    ).run(seq, expiresAt, size, queue.queue_id);
    this.insertedSeq = seq;
    this.insertedPrevSeq = queue.last_seq;
    return { status: "stored", queueId: queue.queue_id, msgId };
  }

  /** One write, committed with the others of this turn (see group-commit.ts). */
  private batchedWrite<T>(work: () => T): Promise<T> {
    return this.writes.add(work);
  }

  async queueUsage(queueId: string): Promise<QueueUsage | null> {
    const row = this.sql("SELECT msg_count, msg_bytes FROM queues WHERE queue_id = ?").get(queueId) as
      | { msg_count: number; msg_bytes: number }
      | undefined;
    return row ? { messages: row.msg_count, bytes: row.msg_bytes } : null;
  }

  async fetchPending(queueId: string, options: FetchOptions): Promise<StoredMessage[]> {
    // One range scan of the (queue_id, seq) index: the cost is the rows returned, whatever the
    // queue holds before the position.
    const rows = this.sql(
      `SELECT ${MESSAGE_COLUMNS} FROM messages
         WHERE queue_id = ? AND seq > ?
         ORDER BY seq LIMIT ?`,
    ).iterate(
      queueId,
      options.afterSeq ?? Number.MIN_SAFE_INTEGER,
      Math.max(0, Math.floor(options.limit)),
    ) as IterableIterator<MessageRow>;
    const picked: MessageRow[] = [];
    let bytes = 0;
    let more = false;
    for (const row of rows) {
      if (options.maxBytes !== undefined && picked.length > 0 && bytes + row.size > options.maxBytes) {
        more = true;
        rows.return?.();
        break;
      }
      bytes += row.size;
      picked.push(row);
    }
    if (options.page) options.page.more = more || picked.length >= Math.floor(options.limit);
    return this.withBodies(queueId, picked, options.into);
  }

  async positionOf(queueId: string, msgId: string): Promise<number | null> {
    const row = this.sql("SELECT seq FROM messages WHERE queue_id = ? AND msg_id = ?").get(queueId, msgId) as
      | { seq: number }
      | undefined;
    return row ? row.seq : null;
  }

  async ack(queueId: string, msgId: string): Promise<boolean> {
    // A broadcast queue's messages are read by every member: one member's ack must not delete them.
    const deleted = await this.batchedWrite(() => {
      const row = this.sql(
        `DELETE FROM messages WHERE queue_id = ? AND msg_id = ?
           AND EXISTS (SELECT 1 FROM queues WHERE queue_id = messages.queue_id AND broadcast = 0)
           RETURNING body_file AS name, size`,
      ).get(queueId, msgId) as FileRow | undefined;
      if (!row) return undefined;
      this.sql(
        "UPDATE queues SET msg_count = msg_count - 1, msg_bytes = msg_bytes - ? WHERE queue_id = ?",
      ).run(row.size, queueId);
      return row;
    });
    if (!deleted) return false;
    this.dropFiles([deleted]); // after the commit: the row goes first (see body-files.ts)
    return true;
  }

  async ackMany(queueId: string, msgIds: readonly string[]): Promise<string[]> {
    // Lazy: rides in the commit of the sends of the same moment (see LAZY_WRITE_MS). Answered once
    // that commit is visible to every reader, not once it is also synced: nothing is lost if a power
    // cut takes a deletion back (the message is delivered again, and the recipient drops it as one it
    // has, as it does any redelivery), and answered at the commit the reply leaves in the same turn,
    // and the same write to the socket, as the pushes of the messages stored in that commit (the
    // sends that came with the ack). A failed commit still rejects; a failed sync after it no longer
    // turns an ack into an error.
    const deleted = await new Promise<(FileRow & { msgId: string })[]>((resolve, reject) => {
      this.writes
        .add(
          () => {
            const queue = this.sql("SELECT broadcast FROM queues WHERE queue_id = ?").get(queueId) as
              | { broadcast: number }
              | undefined;
            if (queue?.broadcast !== 0) return [];
            const remove = this.sql(
              "DELETE FROM messages WHERE queue_id = ? AND msg_id = ? RETURNING body_file AS name, size",
            );
            const rows: (FileRow & { msgId: string })[] = [];
            let bytes = 0;
            for (const msgId of msgIds) {
              const row = remove.get(queueId, msgId) as FileRow | undefined;
              if (!row) continue;
              rows.push({ ...row, msgId });
              bytes += row.size;
            }
            if (rows.length > 0) {
              this.sql(
                "UPDATE queues SET msg_count = msg_count - ?, msg_bytes = msg_bytes - ? WHERE queue_id = ?",
              ).run(rows.length, bytes, queueId);
            }
            return rows;
          },
          resolve,
          { lazy: true },
        )
        .catch(reject); // after a resolve (the sync failed): no effect
    });
    if (deleted.length > 0) this.dropFiles(deleted); // after the commit, as in ack
    return deleted.map((r) => r.msgId);
  }

  async rememberNonce(scope: string, nonce: string, expiresAt: number): Promise<boolean> {
    return this.batchedWrite(
      () =>
        this.sql("INSERT INTO nonces (scope, nonce, expires_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING").run(
          scope,
          nonce,
          expiresAt,
        ).changes === 1,
    );
  }

  async createInvite(blob: Uint8Array, expiresAt: number): Promise<string> {
    const inviteId = newId();
    const insert = this.sql("INSERT INTO invites (rowid, invite_id, blob, expires_at) VALUES (?, ?, ?, ?)");
    return this.batchedWrite(() => {
      this.insertWithRandomRowid((rowid) => insert.run(rowid, inviteId, asBuffer(blob), expiresAt));
      return inviteId;
    });
  }

  async peekInvite(inviteId: string, now: number): Promise<Uint8Array | null> {
    const row = this.sql("SELECT blob, expires_at FROM invites WHERE invite_id = ?").get(inviteId) as
      | { blob: Buffer; expires_at: number }
      | undefined;
    if (!row || row.expires_at <= now) return null;
    return row.blob;
  }

  async claimInvite(inviteId: string, now: number): Promise<Uint8Array | null> {
    // One statement: two concurrent claims cannot both get the blob.
    return this.batchedWrite(() => {
      const row = this.sql("DELETE FROM invites WHERE invite_id = ? RETURNING blob, expires_at").get(
        inviteId,
      ) as { blob: Buffer; expires_at: number } | undefined;
      if (!row || row.expires_at <= now) return null;
      return row.blob;
    });
  }

  async expire(now: number): Promise<ExpiryCounts> {
    const { counts, files } = this.db.transaction(() => {
      // The counters of every queue losing messages, from one grouped pass over what expires.
      this.sql(
        `UPDATE queues SET msg_count = msg_count - gone.n, msg_bytes = msg_bytes - gone.bytes
           FROM (SELECT queue_id, COUNT(*) AS n, SUM(size) AS bytes
                   FROM messages WHERE expires_at <= ? GROUP BY queue_id) AS gone
           WHERE queues.queue_id = gone.queue_id`,
      ).run(now);
      // Body files of what goes: expiring messages, and those of idle queues (deleted by cascade).
      const files = this.sql(
        `SELECT body_file AS name, size FROM messages
           WHERE body_file IS NOT NULL
             AND (expires_at <= ? OR queue_id IN (SELECT queue_id FROM queues WHERE idle_until <= ?))`,
      ).all(now, now) as FileRow[];
      const messages = this.sql("DELETE FROM messages WHERE expires_at <= ?").run(now).changes;
      const queues = this.sql("DELETE FROM queues WHERE idle_until <= ?").run(now).changes;
      const invites = this.sql("DELETE FROM invites WHERE expires_at <= ?").run(now).changes;
      const nonces = this.sql("DELETE FROM nonces WHERE expires_at <= ?").run(now).changes;
      return { counts: { messages, queues, invites, nonces }, files };
    })();
    this.dropFiles(files);
    return counts;
  }

  async compact(): Promise<number> {
    const pageSize = this.db.pragma("page_size", { simple: true }) as number;
    const free = this.db.pragma("freelist_count", { simple: true }) as number;
    // exec, not a prepared statement: incremental_vacuum does its work as it is stepped.
    if (free > 0) this.db.exec(`PRAGMA incremental_vacuum(${Math.min(free, COMPACT_BYTES / pageSize)})`);
    const released = free - (this.db.pragma("freelist_count", { simple: true }) as number);
    // The file shrinks once the change is checkpointed; TRUNCATE also empties the WAL file, which
    // is done here also when the WAL alone has grown (no commit cuts it back: WAL_KEEP_BYTES).
    if (released > 0 || (this.checkpointer?.walBytes() ?? 0) > WAL_KEEP_BYTES) {
      if (this.checkpointer) await this.checkpointer.truncate();
      else this.db.pragma("wal_checkpoint(TRUNCATE)");
    }
    return released * pageSize;
  }

  async storageBytes(): Promise<number> {
    const pages = this.db.pragma("page_count", { simple: true }) as number;
    const free = this.db.pragma("freelist_count", { simple: true }) as number;
    return (pages - free) * (this.db.pragma("page_size", { simple: true }) as number) + this.fileBytes;
  }

  async disclose(idOrKey: string): Promise<Disclosure> {
    const { queues, messageRows, invites, nonces } = this.db.transaction(() => {
      const queueRows = this.sql(
        "SELECT * FROM queues WHERE queue_id = ? OR send_id = ? OR recipient_key = ? ORDER BY queue_id",
      ).all(idOrKey, idOrKey, idOrKey) as QueueRow[];
      const nonceStmt = this.sql(
        "SELECT scope, nonce, expires_at FROM nonces WHERE scope = ? ORDER BY expires_at, nonce",
      );
      const messageStmt = this.sql(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE queue_id = ? ORDER BY seq`);
      const messageRows = new Map<string, MessageRow[]>();
      const scopesShown = new Set<string>();
      const queues: DisclosedQueue[] = queueRows.map((row) => {
        scopesShown.add(row.queue_id);
        scopesShown.add(row.recipient_key);
        messageRows.set(row.queue_id, messageStmt.all(row.queue_id) as MessageRow[]);
        return {
          ...toQueue(row),
          lastSeq: row.last_seq,
          messages: [], // read below, outside the transaction (bodies in files are read asynchronously)
          nonces: [
            ...(nonceStmt.all(row.queue_id) as Parameters<typeof toNonce>[0][]),
            ...(nonceStmt.all(row.recipient_key) as Parameters<typeof toNonce>[0][]),
          ].map(toNonce),
        };
      });
      const invites = (
        this.sql("SELECT invite_id, blob, expires_at FROM invites WHERE invite_id = ?").all(idOrKey) as {
          invite_id: string;
          blob: Buffer;
          expires_at: number;
        }[]
      ).map((r) => ({ inviteId: r.invite_id, blob: r.blob, expiresAt: r.expires_at }));
      const nonces = scopesShown.has(idOrKey)
        ? []
        : (nonceStmt.all(idOrKey) as Parameters<typeof toNonce>[0][]).map(toNonce);
      return { queues, messageRows, invites, nonces };
    })();
    for (const queue of queues) {
      queue.messages = await this.withBodies(queue.queueId, messageRows.get(queue.queueId) ?? []);
    }
    return { queues, invites, nonces };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.writes.flush(); // writes already accepted are committed, not dropped
    this.closed = true;
    await this.wal?.close(); // their syncs finish before the database (and its WAL) goes
    this.db.close();
    await this.bodies?.settled();
  }

  /**
   * The messages of `rows` with their bodies: inline ones as they are, the others read from their
   * files (in parallel, off the event loop). A message deleted while its file was read is left out:
   * its file may have been overwritten under the read (the row goes first, then the file is zeroed),
   * and the row's absence after the read is what proves the read came before that. A file missing
   * under a row that is still there was lost outside the relay: `onMissingBody` is told.
   */
  private async withBodies(
    queueId: string,
    rows: readonly MessageRow[],
    into?: BodyBuffers,
  ): Promise<StoredMessage[]> {
    const bodies = await Promise.all(
      rows.map((row) =>
        row.body_file === null || !this.bodies ? row.body : this.bodies.read(row.body_file, row.size, into),
      ),
    );
    const out: StoredMessage[] = [];
    rows.forEach((row, i) => {
      const body = bodies[i];
      if (row.body_file === null) out.push(toMessage(row, row.body));
      else if (this.closed || !this.holds(queueId, row.msg_id)) return;
      else if (body) out.push(toMessage(row, body));
      else this.onMissingBody(queueId, row.msg_id);
    });
    return out;
  }

  private holds(queueId: string, msgId: string): boolean {
    return (
      this.sql("SELECT seq FROM messages WHERE queue_id = ? AND msg_id = ?").get(queueId, msgId) !== undefined
    );
  }

  /** Deletes the files of rows already deleted (in the background: see BodyFiles.remove). */
  private dropFiles(rows: readonly FileRow[]): void {
    const names: string[] = [];
    for (const row of rows) {
      if (row.name === null) continue;
      names.push(row.name);
      this.fileBytes -= row.size;
    }
    if (names.length > 0) void this.bodies?.remove(names);
  }

  /** Statements are prepared once and reused. */
  private sql(source: string): Database.Statement {
    let stmt = this.statements.get(source);
    if (!stmt) {
      stmt = this.db.prepare(source);
      this.statements.set(source, stmt);
    }
    return stmt;
  }

  private insertWithRandomRowid(insert: (rowid: bigint) => unknown): void {
    for (let attempt = 0; ; attempt++) {
      try {
        insert(randomRowid());
        return;
      } catch (e) {
        if (!isRowidClash(e) || attempt >= 3) throw e;
      }
    }
  }
}
