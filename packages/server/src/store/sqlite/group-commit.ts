import type Database from "better-sqlite3";
import type { WalSync } from "./wal-sync.js";

/** How long one batch's writes may hold the event loop before the rest wait for the next batch. */
const BATCH_SLICE_MS = 4;
/**
 * How long a lazy write (an ack's deletion) waits for another write's commit to ride in before it
 * commits on its own. A commit has a fixed cost (the transaction, its WAL frames, the WAL's fsync,
 * the checkpoint that copies the frames back), about 0.6 ms of CPU on the bench machine: with two
 * writes a commit, a stored message cost 0.37 ms of store CPU, with 32 a commit 0.055 ms. An ack
 * that commits with the sends of the same moment halves the commits of a busy relay.
 */
export const LAZY_WRITE_MS = 10;

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

interface PendingWrite {
  work: () => unknown;
  /** Called with the work's result once its commit is visible to readers, before the sync. */
  committed?: ((value: unknown) => void) | undefined;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Writes that arrive together commit together (group commit): one transaction, and one WAL sync,
 * for all the writes that arrived while the previous turn of the event loop ran, so a single client
 * flooding its own queue does not put everyone else's sends in line behind a commit and a sync
 * each. One write failing leaves the others (see flush), and every
 * promise resolves only after the commit that holds its write is on disk (WalSync): a 202 means
 * the message is on disk.
 */
export class GroupCommit {
  private readonly pending: PendingWrite[] = [];
  /** What will flush the pending writes: nothing yet, a lazy write's timer, or the next turn. */
  private scheduled: "none" | "lazy" | "now" = "none";
  private lazyTimer: NodeJS.Timeout | undefined;
  /** Holds in force (`hold`): while any is, no batch commits, except the one `flush(true)` forces. */
  private holds = 0;

  /** `wal`: null when there is nothing to sync (a database in memory). */
  constructor(
    private readonly db: Database.Database,
    private readonly wal: WalSync | null,
  ) {}

  /**
   * Runs `work` inside the next batch's write transaction; resolves with its result once on disk.
   * `committed` hears of the result as soon as the commit is visible to readers, before the sync.
   */
  add<T>(work: () => T, committed?: (value: T) => void, options: { lazy?: boolean } = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({
        work,
        committed: committed as ((value: unknown) => void) | undefined,
        resolve: resolve as (v: unknown) => void,
        reject,
      });
      if (options.lazy === true) this.scheduleLazy();
      else this.scheduleNow();
    });
  }

  /**
   * `lazy`: a write nobody waits on soon (an ack's deletion: its message is gone for every reader
   * once the ack is handled either way, since a subscription reads on from its own position). It
   * commits with the next ordinary write, or after LAZY_WRITE_MS if none comes.
   */
  private scheduleLazy(): void {
    if (this.scheduled !== "none") return;
    this.scheduled = "lazy";
    this.lazyTimer = setTimeout(() => this.flush(false), LAZY_WRITE_MS);
  }

  private scheduleNow(): void {
    if (this.scheduled === "now") return;
    if (this.lazyTimer !== undefined) clearTimeout(this.lazyTimer);
    this.lazyTimer = undefined;
    this.scheduled = "now";
    setImmediate(() => this.flush(false));
  }

  /**
   * No batch commits until the returned function is called (checkpointer.ts: a checkpoint that
   * needs the WAL to itself; on the relay's connection a commit would wait for it asleep, holding
   * the event loop). Writes queue meanwhile and commit, in order, once every hold is released.
   */
  hold(): () => void {
    this.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
      if (this.holds === 0) this.next();
    };
  }

  /** Writes left over by a sliced batch go in the next turn of the loop. */
  private next(): void {
    if (this.pending.length > 0) this.scheduleNow();
  }

  /**
   * Commits what is pending now (the store calls it before closing with `all`: accepted writes are
   * not dropped). Without `all`, one batch holds what its writes can do in BATCH_SLICE_MS, so a flood
   * of large writes (64 KiB invites) cannot make one transaction, and the loop's wait for it, as long
   * as the flood is deep. (In the abuse bench this alone did not lower the loop delay: the 25–30 ms
   * stalls there were SQLite's automatic checkpoint, now off the loop, checkpointer.ts.) What is
   * left waits for the next turn of the loop, in order, behind whatever came in meanwhile.
   */
  flush(all = true): void {
    if (this.lazyTimer !== undefined) clearTimeout(this.lazyTimer);
    this.lazyTimer = undefined;
    this.scheduled = "none";
    if (this.pending.length === 0 || (this.holds > 0 && !all)) return;
    const batch: PendingWrite[] = [];
    let outcomes: Outcome[] = [];
    const started = performance.now();
    // Each write runs alone in a savepoint only when one of the batch fails. A savepoint per write
    // (SAVEPOINT and RELEASE, and a transaction function better-sqlite3 builds for each) was a fifth
    // of the store's CPU per message (enqueue + fetch + ack: 0.068 → 0.055 ms without): so the
    // batch runs first with none, and if a write throws — its statements may be half done — the
    // whole transaction is rolled back and the same batch runs again the careful way, where the
    // failing write alone is undone. Writes are SQL and a result, nothing outside the database, so
    // running one again after a rollback is as if it ran once.
    let failedWrite = false;
    try {
      this.db
        .transaction(() => {
          while (this.pending.length > 0) {
            if (!all && batch.length > 0 && performance.now() - started > BATCH_SLICE_MS) break;
            const w = this.pending.shift()!;
            batch.push(w);
            try {
              outcomes.push({ ok: true, value: w.work() });
            } catch (error) {
              failedWrite = true;
              throw error;
            }
          }
        })
        .immediate();
    } catch (error) {
      if (!failedWrite) {
        for (const w of batch) w.reject(error); // the commit failed (disk full, I/O): nothing is stored
        this.next();
        return;
      }
      outcomes = [];
      try {
        this.db
          .transaction(() => {
            for (const w of batch) {
              try {
                outcomes.push({ ok: true, value: this.db.transaction(w.work)() });
              } catch (error) {
                outcomes.push({ ok: false, error });
              }
            }
          })
          .immediate();
      } catch (error) {
        for (const w of batch) w.reject(error);
        this.next();
        return;
      }
    }
    this.next();
    batch.forEach((w, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok && w.committed) w.committed(outcome.value);
    });
    const settle = () =>
      batch.forEach((w, i) => {
        const outcome = outcomes[i]!;
        if (outcome.ok) w.resolve(outcome.value);
        else w.reject(outcome.error);
      });
    if (!this.wal) {
      settle();
      return;
    }
    // The sync failing (I/O error) leaves it unknown whether the writes survive a power cut: they
    // are reported failed, as SQLite reports a commit whose fsync failed under FULL.
    this.wal.afterCommit().then(settle, (error) => {
      for (const w of batch) w.reject(error);
    });
  }
}
