import { type FileHandle, open } from "node:fs/promises";
import type { Checkpointer } from "./checkpointer.js";

/**
 * Makes commits durable without holding the event loop: the relay's connection runs with
 * `synchronous = OFF` (NORMAL when it checkpoints itself: checkpointer.ts), so a commit writes the
 * WAL but never fsyncs it, and a write's promise
 * resolves only after this fsyncs the WAL file from libuv's thread pool. So a 202 still means the
 * message is on disk, even across a power cut, as with `synchronous = FULL`, but the relay's one
 * thread no longer waits for the disk: under FULL every small commit blocked it for the length of
 * an fsync (1–30 ms, more while large body files were being flushed), and every other client
 * waited with it (issue 7, abuse bench `fill-large`).
 *
 * Why this is as durable: in WAL mode a committed transaction is the frames appended to the WAL;
 * once they are on disk, recovery replays them. If a checkpoint ran in between, SQLite synced the
 * WAL before it and the database after it (every checkpoint runs under NORMAL, which does both), so
 * the frames are on disk either way.
 * An fsync covers the whole file, whichever descriptor it is called on.
 *
 * Syncs coalesce: a commit made while one is running waits for the next, which covers every commit
 * made until it starts — one fsync for many writes, as group commit does for transactions.
 */
export class WalSync {
  private handle: FileHandle | undefined;
  /** The sync that has not started yet: every commit until it starts is covered by it. */
  private queued: Promise<void> | null = null;
  private last: Promise<void> = Promise.resolve();

  /** `checkpointer`: told after each sync that committed frames wait to be checkpointed. */
  constructor(
    private readonly walPath: string,
    private readonly checkpointer?: Checkpointer,
  ) {}

  /** Resolves once everything committed before this call is on disk. */
  afterCommit(): Promise<void> {
    if (this.queued) return this.queued;
    const run = this.last.then(async () => {
      this.queued = null;
      this.handle ??= await open(this.walPath, "r");
      await this.handle.datasync();
      this.checkpointer?.nudge();
    });
    this.queued = run;
    this.last = run.catch(() => {}); // a failed sync fails its own writes; the next one tries again
    return run;
  }

  /** Waits for the syncs under way and lets go of the file (before the database closes). */
  async close(): Promise<void> {
    await this.last;
    await this.checkpointer?.close();
    await this.handle?.close();
    this.handle = undefined;
  }
}
