import { once } from "node:events";
import { statSync } from "node:fs";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import type Database from "better-sqlite3";
import { serverPackageRoot } from "../../package-root.js";

/** At most one checkpoint per this long: a flood of writes checkpoints about 4 MiB at a time. */
const CHECKPOINT_EVERY_MS = 200;
/** SQLite's own default (pages), used again if the checkpoint thread fails. */
const SQLITE_AUTOCHECKPOINT_PAGES = 1000;

/**
 * Checkpoints the WAL on a thread of its own (checkpoint-worker.ts) instead of inside a commit.
 *
 * Why: with SQLite's automatic checkpoint, the commit that pushes the WAL past 1,000 pages also
 * copies those 4 MiB into the database file and fsyncs it, on the relay's one thread: a client
 * flooding invites or small messages (20 MiB/s) made that happen five times a second, each time
 * holding every other client's request for 25–40 ms (issue 7, abuse bench `invite-flood`). Here the
 * relay's connection never checkpoints (`wal_autocheckpoint = 0`); after commits have been synced
 * (`nudge`, from the store), a worker thread with its own connection runs a PASSIVE checkpoint, at
 * most one at a time and one per CHECKPOINT_EVERY_MS. PASSIVE takes no lock a writer waits for, so
 * the relay's writes go on meanwhile; SQLite restarts the WAL from its beginning at the first write
 * after a checkpoint has copied everything, and the sweep cuts the file back (SqliteStore.compact).
 *
 * Durability is unchanged: a commit is on disk once its WAL frames are (WalSync); a checkpoint only
 * moves committed frames into the database file. If the thread cannot start or fails, the relay's
 * connection goes back to SQLite's automatic checkpoints.
 *
 * While the thread checkpoints, the relay's connection runs with `synchronous = OFF`: it syncs
 * nothing itself. Under NORMAL it still did one fsync of its own, on the relay's thread: the WAL's
 * header, in the first commit after each full checkpoint (the WAL restarting from its beginning,
 * five times a second under load), which waited behind the checkpoint's writes and took 50–165 ms
 * (perf: the thread asleep in `fsync` under `pagerWalFrames`), every client waiting with it. That
 * sync orders the new header before the new frames; here nothing committed is acknowledged before
 * WalSync's fdatasync has covered the whole WAL file, header and frames together, and every
 * checkpoint that copies frames into the database (this thread's, NORMAL) syncs the WAL before and
 * the database after, before SQLite lets the WAL restart over the copied frames. A checkpoint on
 * the relay's own connection — at close, the sweep's `checkpointHere`, the automatic ones after a
 * failure — runs under NORMAL, so it syncs the same way.
 */
export class Checkpointer {
  private worker: Worker | null = null;
  private failed = false;
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private lastStart = 0;
  private closed = false;

  constructor(
    private readonly path: string,
    private readonly db: Database.Database,
  ) {
    db.pragma("wal_autocheckpoint = 0");
    db.pragma("synchronous = OFF");
  }

  /** The WAL file's size now (0 when there is none). */
  walBytes(): number {
    try {
      return statSync(`${this.path}-wal`).size;
    } catch {
      return 0;
    }
  }

  /**
   * A checkpoint on the relay's own connection (the sweep's TRUNCATE, which also empties the WAL
   * file), under NORMAL: the WAL synced before its frames are copied, the database after.
   */
  checkpointHere(mode: "TRUNCATE"): void {
    this.db.pragma("synchronous = NORMAL");
    try {
      this.db.pragma(`wal_checkpoint(${mode})`);
    } finally {
      if (this.inCharge()) this.db.pragma("synchronous = OFF");
    }
  }

  /** Whether the thread does the checkpoints (not failed, not closed). */
  private inCharge(): boolean {
    return !this.failed && !this.closed;
  }

  /** Commits were made: a checkpoint runs soon (now, or once the last one is CHECKPOINT_EVERY_MS old). */
  nudge(): void {
    if (this.closed || this.failed || this.running || this.timer) return;
    const wait = this.lastStart + CHECKPOINT_EVERY_MS - performance.now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.start();
      }, wait);
      this.timer.unref();
      return;
    }
    this.start();
  }

  private start(): void {
    if (this.closed || this.failed || this.running) return;
    const worker = this.worker ?? this.spawn();
    if (!worker) return;
    this.running = true;
    this.lastStart = performance.now();
    worker.postMessage("checkpoint");
  }

  private spawn(): Worker | null {
    try {
      const worker = new Worker(checkpointWorkerPath(), { workerData: { path: this.path } });
      worker.unref(); // an idle checkpoint thread never keeps the relay (or a test) alive
      worker.on("message", (r: { ok: boolean }) => {
        this.running = false;
        if (!r.ok) this.fallBack();
      });
      worker.on("error", () => this.fallBack());
      worker.on("exit", () => {
        if (!this.closed) this.fallBack();
      });
      this.worker = worker;
      return worker;
    } catch {
      this.fallBack();
      return null;
    }
  }

  /** The thread failed: SQLite's automatic checkpoints on the relay's connection, as before. */
  private fallBack(): void {
    if (this.failed || this.closed) return;
    this.failed = true;
    this.running = false;
    void this.worker?.terminate();
    this.worker = null;
    // Its checkpoints now run in this connection's commits: synced (see the class comment).
    this.db.pragma("synchronous = NORMAL");
    this.db.pragma(`wal_autocheckpoint = ${SQLITE_AUTOCHECKPOINT_PAGES}`);
  }

  /** Lets the checkpoint under way finish (5 s at most) and stops the thread, before the database closes. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    // The last connection to close checkpoints the WAL into the database and deletes it: synced.
    this.db.pragma("synchronous = NORMAL");
    const worker = this.worker;
    this.worker = null;
    if (!worker) return;
    const exited = once(worker, "exit");
    worker.postMessage("close");
    const deadline = setTimeout(() => void worker.terminate(), 5000);
    await exited.catch(() => {});
    clearTimeout(deadline);
  }
}

/**
 * The checkpoint thread's module, from the package's folder rather than this module's: in the
 * relay's one-file bundle (scripts/bundle.mjs) this code lies elsewhere, and the thread's module
 * stays a file of its own.
 */
export function checkpointWorkerPath(): string {
  return join(serverPackageRoot(), "dist", "src", "store", "sqlite", "checkpoint-worker.js");
}
