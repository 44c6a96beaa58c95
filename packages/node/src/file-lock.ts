/**
 * A cross-process profile lock: `parley listen` in one terminal and `parley send` in another must
 * not interleave MLS operations on the same profile. An exclusive lock file holds the owner's pid,
 * so a lock left by a killed process is recognised as stale and taken over.
 *
 * Taking it is a file created and removed (about 30 µs, several times that on a busy disk), and a
 * message sent or received takes it several times: a process keeps it until the loop's next turn
 * after its last task, so tasks that follow one another at once (a burst of messages, the steps of
 * one send) take it once. Another process waits at most that turn longer.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import type { ProfileLock } from "@parley/core";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class FileLock implements ProfileLock {
  private tail: Promise<unknown> = Promise.resolve();
  /** Held by this process, and given up at the loop's next turn unless a task comes first. */
  private lingering: NodeJS.Immediate | undefined;

  constructor(
    private readonly path: string,
    private readonly timeoutMs = 30_000,
  ) {}

  run<T>(fn: () => Promise<T>): Promise<T> {
    const task = async () => {
      if (this.lingering) clearImmediate(this.lingering);
      else await this.acquire();
      this.lingering = undefined;
      try {
        return await fn();
      } finally {
        this.lingering = setImmediate(() => {
          this.lingering = undefined;
          this.release();
        });
      }
    };
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => undefined);
    return result;
  }

  private async acquire(): Promise<void> {
    const deadline = Date.now() + this.timeoutMs;
    for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
      try {
        const fd = openSync(this.path, "wx");
        writeSync(fd, String(process.pid));
        closeSync(fd);
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      }
      if (this.ownerIsGone()) {
        try {
          unlinkSync(this.path);
        } catch {
          // Someone else removed it first: just try again.
        }
        continue;
      }
      if (Date.now() > deadline)
        throw new Error(`profile is busy (lock ${this.path} held by another parley process)`);
      await sleep(delay);
    }
  }

  private ownerIsGone(): boolean {
    let pid: number;
    try {
      pid = Number.parseInt(readFileSync(this.path, "utf8"), 10);
    } catch {
      return false;
    }
    if (!Number.isFinite(pid) || pid <= 0) return true;
    try {
      process.kill(pid, 0);
      return false;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === "ESRCH";
    }
  }

  private release(): void {
    try {
      unlinkSync(this.path);
    } catch {
      // Already gone; nothing to undo.
    }
  }
}
