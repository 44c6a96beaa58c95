/** The local store on Node: one SQLite file in the profile folder, behind core's KeyValueStore seam. */
import type { KeyValueStore, KvWrite } from "@parley/core";
import Database from "better-sqlite3";

export class SqliteKeyValueStore implements KeyValueStore {
  private readonly db: Database.Database;
  private readonly stmt: ReturnType<SqliteKeyValueStore["prepare"]>;

  constructor(path: string) {
    this.db = new Database(path);
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
    // FULL: a message acknowledged to the relay must survive a power cut.
    this.db.pragma("synchronous = FULL");
    this.db.pragma("busy_timeout = 10000");
    // Deleted and overwritten rows (a left group's MLS secrets, an old epoch's state, a used
    // KeyPackage's private key) are zeroed on disk, not left in free pages.
    this.db.pragma("secure_delete = ON");
    // Reading the schema fails here, with a clear error, when the file is not a database.
    this.db.pragma("schema_version");
    this.db.exec("CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID");
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
      }
    })();
  }

  /**
   * Copies the write-ahead log into the database and empties it: the log holds old page images
   * (earlier MLS states, deleted keys) that secure_delete cannot reach until they are checkpointed.
   */
  async close(): Promise<void> {
    if (!this.db.open) return;
    try {
      this.db.pragma("wal_checkpoint(TRUNCATE)");
    } catch {
      // another process holds the database (a running `listen`): it checkpoints when it closes
    }
    this.db.close();
  }
}
