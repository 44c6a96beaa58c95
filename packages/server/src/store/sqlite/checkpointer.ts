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

/** Pauses the relay's commits (not its event loop) while a checkpoint needs the WAL to itself. */
export interface WriteGate {
  /** No commit starts until the returned function is called; writes wait, in order, meanwhile. */
  hold(): () => void;
}

/**
 * What the thread is asked to do: an ordinary PASSIVE checkpoint; the same with the relay's
 * commits held, until every frame is copied (so that the next commit starts the WAL over); or
 * TRUNCATE, with the commits held, which also empties the WAL file.
 */
type Job = "checkpoint" | "catch-up" | "truncate";

interface JobResult {
  ok: boolean;
  /** Frames in the WAL, and how many of them are in the database file now. */
  log?: number;
  checkpointed?: number;
}

/**
 * When the WAL holds more than this, the next checkpoint holds the commits until it has copied
 * every frame. Why: SQLite starts the WAL over from its beginning only at a commit that finds every
 * frame copied, and a PASSIVE checkpoint running beside a steady flow of commits never finds the
 * end (new frames keep coming while it copies): under a sustained 7,000 messages a second the WAL
 * grew to 400 MiB in 45 s, its frames — deleted ciphertext among them — kept until the next sweep.
 * Held, the copy takes tens of milliseconds, once per this many bytes of WAL; the relay's thread
 * serves everything but new commits meanwhile.
 */
const WAL_RESTART_BYTES = 64 * 1024 * 1024;
/** Commits are never held longer than this, whatever the thread does. */
const MAX_HOLD_MS = 2000;
/** A catch-up that still finds frames left (a reader held them) tries this many more times. */
const CATCH_UP_RETRIES = 2;

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
 * the relay's own connection — at close, the automatic ones after a failure, a TRUNCATE asked of a
 * thread that is gone — runs under NORMAL, so it syncs the same way.
 */
export class Checkpointer {
  private worker: Worker | null = null;
  private failed = false;
  /** The job the thread is doing, if any. */
  private running: Job | null = null;
  private timer: NodeJS.Timeout | undefined;
  private lastStart = 0;
  private closed = false;
  private gate: WriteGate | null = null;
  /** Ends the hold on commits of the job under way (undefined when nothing is held). */
  private release: (() => void) | undefined;
  private catchUpRetries = 0;
  /** Callers of `truncate` waiting for it; a TRUNCATE is due while this is not empty. */
  private truncateWaiters: (() => void)[] = [];
  private readonly pageSize: number;

  constructor(
    private readonly path: string,
    private readonly db: Database.Database,
    /** WAL_RESTART_BYTES unless told (tests). */
    private readonly walRestartBytes = WAL_RESTART_BYTES,
  ) {
    db.pragma("wal_autocheckpoint = 0");
    db.pragma("synchronous = OFF");
    this.pageSize = db.pragma("page_size", { simple: true }) as number;
  }

  /** The store's commits, which the catch-up and TRUNCATE jobs hold (without one, nothing is held). */
  setWriteGate(gate: WriteGate): void {
    this.gate = gate;
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
   * Empties the WAL file (the sweep's, once deleted data's pages were released: old frames hold
   * what was deleted). On the thread, with the commits held (a TRUNCATE on the relay's own
   * connection copied and synced there, 20–70 ms of the event loop each sweep); on the relay's
   * connection, under NORMAL, when the thread is gone.
   */
  truncate(): Promise<void> {
    if (!this.inCharge()) {
      this.checkpointHere("TRUNCATE");
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.truncateWaiters.push(resolve);
      if (!this.running) this.next();
    });
  }

  /** A checkpoint on the relay's own connection, under NORMAL: the WAL synced before its frames are copied, the database after. */
  private checkpointHere(mode: "TRUNCATE"): void {
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
        this.start("checkpoint");
      }, wait);
      this.timer.unref();
      return;
    }
    this.start("checkpoint");
  }

  /** After a job: a TRUNCATE that is due, else nothing (the next commits' nudge starts the next checkpoint). */
  private next(): void {
    if (this.truncateWaiters.length > 0) this.start("truncate");
  }

  private start(job: Job): void {
    if (this.closed || this.failed || this.running) return;
    const worker = this.worker ?? this.spawn();
    if (!worker) return;
    this.running = job;
    this.lastStart = performance.now();
    if (job !== "checkpoint") this.holdCommits();
    worker.postMessage(job === "truncate" ? "truncate" : "checkpoint");
  }

  private holdCommits(): void {
    if (this.release || !this.gate) return;
    const release = this.gate.hold();
    const deadline = setTimeout(() => this.releaseCommits(), MAX_HOLD_MS);
    deadline.unref();
    this.release = () => {
      clearTimeout(deadline);
      release();
    };
  }

  private releaseCommits(): void {
    const release = this.release;
    this.release = undefined;
    release?.();
  }

  private done(r: JobResult): void {
    const job = this.running;
    this.running = null;
    if (!r.ok) {
      this.fallBack();
      return;
    }
    const left = (r.log ?? 0) - (r.checkpointed ?? 0);
    if (job === "truncate") {
      this.releaseCommits();
      for (const resolve of this.truncateWaiters.splice(0)) resolve();
    } else if (job === "catch-up") {
      // Still held: copy what is left (a reader kept some frames), a few times at most.
      if (left > 0 && this.catchUpRetries++ < CATCH_UP_RETRIES && this.release) {
        this.running = "catch-up";
        this.worker?.postMessage("checkpoint");
        return;
      }
      this.catchUpRetries = 0;
      this.releaseCommits();
    } else if ((r.log ?? 0) * this.pageSize > this.walRestartBytes) {
      // Even when this one copied every frame it saw: commits made while it ran came after them.
      this.start("catch-up");
      return;
    }
    this.next();
  }

  private spawn(): Worker | null {
    try {
      const worker = new Worker(checkpointWorkerPath(), { workerData: { path: this.path } });
      worker.unref(); // an idle checkpoint thread never keeps the relay (or a test) alive
      worker.on("message", (r: JobResult) => this.done(r));
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
    this.running = null;
    this.releaseCommits();
    void this.worker?.terminate();
    this.worker = null;
    // Its checkpoints now run in this connection's commits: synced (see the class comment).
    this.db.pragma("synchronous = NORMAL");
    this.db.pragma(`wal_autocheckpoint = ${SQLITE_AUTOCHECKPOINT_PAGES}`);
    // A TRUNCATE that was asked of the thread is done here instead.
    if (this.truncateWaiters.length > 0) {
      this.checkpointHere("TRUNCATE");
      for (const resolve of this.truncateWaiters.splice(0)) resolve();
    }
  }

  /** Lets the checkpoint under way finish (5 s at most) and stops the thread, before the database closes. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.releaseCommits();
    for (const resolve of this.truncateWaiters.splice(0)) resolve();
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
