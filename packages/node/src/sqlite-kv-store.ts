/** The local store on Node: one SQLite file in the profile folder, behind core's KeyValueStore seam. */
import { type FileHandle, open } from "node:fs/promises";
import { type KeyValueStore, type KvWrite, searchForm } from "@parley/core";
import Database from "better-sqlite3";

export class SqliteKeyValueStore implements KeyValueStore {
  private readonly db: Database.Database;
  private readonly stmt: ReturnType<SqliteKeyValueStore["prepare"]>;
  private readonly wal: WalSync;

  constructor(path: string) {
    this.db = new Database(path);
    this.wal = new WalSync(`${path}-wal`);
    try {
      this.configure();
    } catch (e) {
      this.db.close();
      throw e;
    }
    this.stmt = this.prepare();
  }

  private configure(): void {
    this.db.pragma("journal_mode = WAL");
    // NORMAL: a commit is in the WAL (it survives the process being killed) without an fsync of its
    // own; what must survive a power cut waits for `durable`, one fsync for many commits. Before
    // (FULL) every commit fsync'd on the event loop: three per message sent and received, which
    // held a conversation to ~40 messages a second (bench one-to-one, issue 14).
    this.db.pragma("synchronous = NORMAL");
    this.db.pragma("busy_timeout = 10000");
    // Deleted and overwritten rows (a left group's MLS secrets, an old epoch's state, a used
    // KeyPackage's private key) are zeroed on disk, not left in free pages.
    this.db.pragma("secure_delete = ON");
    // Reading the schema fails here, with a clear error, when the file is not a database.
    this.db.pragma("schema_version");
    this.db.exec(KV_SCHEMA);
    migrateWithoutRowid(this.db);
    const hasSearch = this.db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'search_text'").get();
    if (!hasSearch) {
      this.db.exec(SEARCH_SCHEMA);
      // A setting FTS5 keeps in the table: once, when it is made.
      this.db.exec("INSERT INTO search_text (search_text, rank) VALUES ('secure-delete', 1)");
    }
  }

  private prepare() {
    return {
      get: this.db.prepare<[string], { value: Buffer }>("SELECT value FROM kv WHERE key = ?"),
      put: this.db.prepare(
        "INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
      ),
      del: this.db.prepare("DELETE FROM kv WHERE key = ?"),
      range: this.db.prepare<[string, string, number], { key: string; value: Buffer }>(
        "SELECT key, value FROM kv WHERE key >= ? AND key < ? ORDER BY key ASC LIMIT ?",
      ),
      rangeDesc: this.db.prepare<[string, string, number], { key: string; value: Buffer }>(
        "SELECT key, value FROM kv WHERE key >= ? AND key < ? ORDER BY key DESC LIMIT ?",
      ),
      // Unchanged text (a status or a reaction rewrote the message) leaves the index alone.
      putText: this.db.prepare(
        "INSERT INTO search_doc (key, text) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET text = excluded.text WHERE text IS NOT excluded.text",
      ),
      delText: this.db.prepare("DELETE FROM search_doc WHERE key = ?"),
      search: this.db.prepare<[string, string, string, number], { key: string }>(
        "SELECT d.key FROM search_text JOIN search_doc d ON d.id = search_text.rowid WHERE search_text.text GLOB ? AND d.key >= ? AND d.key < ? ORDER BY d.key DESC LIMIT ?",
      ),
    };
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const row = this.stmt.get.get(key);
    return row ? new Uint8Array(row.value) : undefined;
  }

  async list(prefix: string, options: { limit?: number; reverse?: boolean } = {}) {
    const stmt = options.reverse ? this.stmt.rangeDesc : this.stmt.range;
    // Every key with this prefix sorts below prefix + U+10FFFF: SQLite compares UTF-8 bytes, where
    // a character beyond U+FFFF (an emoji) sorts above U+FFFF, so that bound would miss it.
    const rows = stmt.all(prefix, `${prefix}\u{10FFFF}`, options.limit ?? -1);
    return rows.map((r): [string, Uint8Array] => [r.key, new Uint8Array(r.value)]);
  }

  async write(writes: KvWrite[]): Promise<void> {
    this.db.transaction(() => {
      for (const w of writes) {
        if (w.value === null) this.stmt.del.run(w.key);
        else this.stmt.put.run(w.key, Buffer.from(w.value.buffer, w.value.byteOffset, w.value.byteLength));
        if (w.value === null || w.text === null) this.stmt.delText.run(w.key);
        else if (w.text !== undefined) this.stmt.putText.run(w.key, searchForm(w.text));
      }
    })();
    this.wal.written();
  }

  durable(): Promise<void> {
    return this.wal.sync();
  }

  /**
   * FTS5's trigram index finds any substring of three characters or more (Chinese words included,
   * which have no spaces to split on) for GLOB, and scans for shorter queries such as a
   * two-character Chinese word. (LIKE with an ESCAPE clause does not use the index: measured.)
   * Both sides are in search form, so the index is case-sensitive; GLOB's wildcards in the query
   * are bracketed to stand for themselves.
   */
  async search(prefix: string, query: string, limit: number): Promise<string[]> {
    const pattern = `*${searchForm(query).replace(/[*?[]/g, (c) => `[${c}]`)}*`;
    return this.stmt.search.all(pattern, prefix, `${prefix}\u{10FFFF}`, limit).map((r) => r.key);
  }

  /**
   * Copies the write-ahead log into the database and empties it: the log holds old page images
   * (earlier MLS states, deleted keys) that secure_delete cannot reach until they are checkpointed.
   */
  async close(): Promise<void> {
    if (!this.db.open) return;
    await this.wal.close();
    try {
      this.db.pragma("wal_checkpoint(TRUNCATE)");
    } catch {
      // another process holds the database (a running `listen`): it checkpoints when it closes
    }
    this.db.close();
  }
}

/**
 * Records by key. A rowid table with an index on the key, not a WITHOUT ROWID table: there the whole
 * row is the B-tree's key, so a record of several MiB (a large group's MLS state, a pending commit
 * with its Welcome) sits in the tree's cells and dividers, and every search that compares against it
 * reads its whole overflow chain — SQLite's advice is rows under ~1/20 of a page. With 1,000 friends
 * that was ~470 page reads per tiny write and ~280 per read of a small record during a first post
 * (a 4 KiB read each, growing with the group: the first post to 2,500 friends took 14 s). Here the
 * key index holds keys and rowids only; a value is read when it is asked for.
 */
const KV_SCHEMA = "CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value BLOB NOT NULL)";

/** A profile made before the table above: its records move to it, in one transaction. */
function migrateWithoutRowid(db: Database.Database): void {
  const row = db.prepare<[], { sql: string }>("SELECT sql FROM sqlite_master WHERE name = 'kv'").get();
  if (!row || !/WITHOUT\s+ROWID/i.test(row.sql)) return;
  db.transaction(() => {
    db.exec(KV_SCHEMA.replace("kv (", "kv_rowid ("));
    db.exec("INSERT INTO kv_rowid (key, value) SELECT key, value FROM kv ORDER BY key");
    db.exec("DROP TABLE kv"); // secure_delete: its pages are zeroed
    db.exec("ALTER TABLE kv_rowid RENAME TO kv");
  })();
}

/**
 * The search index: each entry's searchable text (KvWrite.text, in `searchForm`) in `search_doc`,
 * and an FTS5 trigram index over it (external content: the index keeps no second copy of it), kept in step
 * by triggers. `secure-delete` makes FTS5 remove a deleted or edited message's old words from the
 * index itself, instead of leaving them behind a delete marker until a merge: with the database's
 * secure_delete, the old words of a message are gone from the file, not only from results.
 */
const SEARCH_SCHEMA = `
CREATE TABLE IF NOT EXISTS search_doc (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, text TEXT NOT NULL);
CREATE VIRTUAL TABLE IF NOT EXISTS search_text USING fts5(
  text, content='search_doc', content_rowid='id', tokenize='trigram case_sensitive 1');
CREATE TRIGGER IF NOT EXISTS search_doc_insert AFTER INSERT ON search_doc BEGIN
  INSERT INTO search_text (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER IF NOT EXISTS search_doc_delete AFTER DELETE ON search_doc BEGIN
  INSERT INTO search_text (search_text, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER IF NOT EXISTS search_doc_update AFTER UPDATE OF text ON search_doc BEGIN
  INSERT INTO search_text (search_text, rowid, text) VALUES ('delete', old.id, old.text);
  INSERT INTO search_text (rowid, text) VALUES (new.id, new.text);
END;
`;

/**
 * fsyncs the WAL file off the event loop, for `durable`. In WAL mode a committed transaction is
 * frames appended to the WAL; once the file is on disk, recovery replays them, and a checkpoint
 * under NORMAL syncs the WAL before it copies and the database after. An fsync covers the whole
 * file, whoever wrote it (another process of the same profile too).
 *
 * Syncs coalesce: a wait asked for while a sync runs is covered by the next one, which covers
 * every write made until it starts; a wait with nothing written since the last sync is free.
 */
class WalSync {
  private handle: FileHandle | undefined;
  /** Writes made, and writes covered by the last finished sync. */
  private writes = 0;
  private synced = 0;
  private queued: Promise<void> | null = null;
  private last: Promise<void> = Promise.resolve();

  constructor(private readonly path: string) {}

  written(): void {
    this.writes++;
  }

  sync(): Promise<void> {
    if (this.synced === this.writes) return Promise.resolve();
    if (this.queued) return this.queued;
    const run = this.last.then(async () => {
      this.queued = null;
      const covers = this.writes;
      this.handle ??= await open(this.path, "r");
      await this.handle.datasync();
      this.synced = Math.max(this.synced, covers);
    });
    this.queued = run;
    this.last = run.catch(() => {}); // a failed sync fails its own waits; the next one tries again
    return run;
  }

  async close(): Promise<void> {
    await this.last;
    await this.handle?.close();
    this.handle = undefined;
  }
}
