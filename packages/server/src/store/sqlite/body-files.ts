import { randomBytes } from "node:crypto";
import { constants, mkdirSync, readdirSync } from "node:fs";
import { type FileHandle, open, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { BodyBuffers } from "../../relay/body-pool.js";

/**
 * Large message bodies, one file each, beside the SQLite database (`DIR/relay-bodies/`).
 *
 * Why not in SQLite: better-sqlite3 runs on the relay's one thread, so storing an 8 MiB body there
 * (copy into pages, WAL write, fsync) held every other request for 80–100 ms per body, and a client
 * filling its own queue with large messages pushed everyone else's p99 past 300 ms (issue 7, abuse
 * bench `fill-large`). A file is written and fsync'd by libuv's thread pool while the event loop
 * goes on; SQLite then commits only the small row that names the file.
 *
 * Order of writes, so that a crash leaves at worst an orphan file and never a row without its body:
 * write + fsync the file (and the directory entry), then commit the row. Deletion goes the other
 * way: the row first, then the file. Files no row names (a crash between the two steps) are removed
 * when the store opens (`orphans`, listed before it serves anything).
 *
 * File names are fresh random ids, unrelated to any queue, message or send id: a directory listing
 * tells sizes and times, which the database holds anyway, and nothing that links files to queues.
 */
/** How much of a large body is written before it is synced (see `BodyFiles.write`). */
const SLICE = 1024 * 1024;

export class BodyFiles {
  /** The last job in the disk lane: large bodies are written and wiped one at a time (see `write`). */
  private writing: Promise<unknown> = Promise.resolve();
  /** Deletions under way: `settled` waits for them (closing the store, tests). */
  private readonly removing = new Set<Promise<void>>();

  /** `create`: make the directory (0700) if it is missing; read-only users (`disclose`) do not. */
  constructor(
    readonly dir: string,
    create: boolean,
  ) {
    if (create) mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  /**
   * The files no row names, listed now. Only files present at this moment are candidates, so a
   * body written later (whose row is not committed yet) is never taken for an orphan.
   */
  orphans(isReferenced: (name: string) => boolean): string[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw e;
    }
    return names.filter((name) => !isReferenced(name));
  }

  /**
   * Writes `body` to a new file, durably (file and directory entry fsync'd); returns its name.
   *
   * The disk is shared with the database's WAL syncs, which every small message waits for, and a
   * small sync waits for whatever large data is being flushed ahead of it (ext4's ordered mode
   * writes a transaction's new data blocks before its journal commit). So large bodies go to the
   * disk in a single lane (`inLane`: one file at a time; 4 × 8 MiB flushed at once put each small
   * sync behind ≈ 120 ms of writing) and in slices of `SLICE` bytes, each synced before the next
   * is written: a small sync then waits for one slice at most (≈ 4 ms at 270 MB/s) instead of a
   * whole 8 MiB body (≈ 30 ms). Large bodies still go at close to the disk's speed.
   */
  write(body: Uint8Array): Promise<string> {
    return this.inLane(() => this.writeNow(body));
  }

  private inLane<T>(job: () => Promise<T>): Promise<T> {
    const turn = this.writing.then(job);
    this.writing = turn.catch(() => {});
    return turn;
  }

  private async writeNow(body: Uint8Array): Promise<string> {
    const name = randomBytes(16).toString("hex");
    const path = join(this.dir, name);
    const file = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    let written = false;
    try {
      for (let at = 0; at < body.length; at += SLICE) {
        const end = Math.min(body.length, at + SLICE);
        await file.write(body, at, end - at, at);
        await file.datasync();
      }
      if (body.length === 0) await file.datasync();
      await file.sync(); // the size and times too (datasync may leave them)
      written = true;
    } finally {
      await file.close();
      if (!written) await unlink(path).catch(() => undefined); // a partial body is no body
    }
    await this.syncDirectory();
    return name;
  }

  /**
   * The body in file `name`, `size` bytes long; null if there is no such file (deleted meanwhile,
   * or lost) or it does not hold `size` bytes (cut short outside the relay: no body is better than
   * a wrong one). With `into`, the body is read into a buffer from there (see relay/body-pool.ts).
   */
  async read(name: string, size: number, into?: BodyBuffers): Promise<Buffer | null> {
    let file: FileHandle;
    try {
      file = await open(join(this.dir, name), constants.O_RDONLY);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw e;
    }
    try {
      const body = into ? into.take(size) : Buffer.allocUnsafeSlow(size);
      let at = 0;
      while (at < size) {
        const { bytesRead } = await file.read(body, at, size - at, at);
        if (bytesRead === 0) return null;
        at += bytesRead;
      }
      return body;
    } finally {
      await file.close();
    }
  }

  /**
   * Deletes files, overwriting each with zeros first (and forcing that to disk: unlinking a file
   * drops its unwritten pages), as SQLite's `secure_delete` does for the bodies it holds. Errors
   * are not thrown: the row is already gone, and a file left behind is an orphan at the next start.
   * Runs in the background (the caller need not wait); `settled` waits for it.
   */
  remove(names: readonly string[]): Promise<void> {
    if (names.length === 0) return Promise.resolve();
    const work = Promise.all(names.map((name) => this.removeOne(name))).then(() => undefined);
    this.removing.add(work);
    void work.finally(() => this.removing.delete(work));
    return work;
  }

  /** Resolves once every deletion started so far has finished. */
  async settled(): Promise<void> {
    await Promise.all([...this.removing]);
  }

  /** Overwrites in the same lane and slices as `write`, for the same reason. */
  private removeOne(name: string): Promise<void> {
    return this.inLane(() => this.removeNow(name));
  }

  private async removeNow(name: string): Promise<void> {
    const path = join(this.dir, name);
    try {
      const file = await open(path, constants.O_WRONLY);
      try {
        const { size } = await file.stat();
        const zeros = Buffer.alloc(Math.min(size, SLICE));
        for (let at = 0; at < size; at += zeros.length) {
          await file.write(zeros, 0, Math.min(zeros.length, size - at), at);
          await file.datasync();
        }
      } finally {
        await file.close();
      }
      await unlink(path);
    } catch {
      // ENOENT: already gone. Anything else: left for the next sweep (see above).
    }
  }

  private async syncDirectory(): Promise<void> {
    const dir = await open(this.dir, constants.O_RDONLY);
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}
