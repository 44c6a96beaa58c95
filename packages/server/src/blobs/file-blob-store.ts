import { constants, createReadStream, mkdirSync } from "node:fs";
import { open, readdir, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { Id } from "@parley/protocol";
import { type BlobStore, BlobWriteOverflow } from "./blob-store.js";

/**
 * Blobs as files, one per blob, in a directory of their own (0700; files 0600), named by the blob
 * id. Writes go to the file at their offset through libuv's thread pool and are fsync'd before they
 * count, so an upload the relay answered survives a crash; a write cut off midway leaves bytes past
 * `received` that the next write at that offset overwrites. Deletion overwrites with zeros first,
 * as the message bodies' files are (body-files.ts).
 */
export class FileBlobStore implements BlobStore {
  private readonly removing = new Set<Promise<void>>();

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  private path(blobId: string): string {
    // Ids are checked at the route; this keeps a bad one from naming another file all the same.
    if (!Id.safeParse(blobId).success) throw new Error("not a blob id");
    return join(this.dir, blobId);
  }

  async create(blobId: string): Promise<void> {
    const file = await open(this.path(blobId), constants.O_WRONLY | constants.O_CREAT, 0o600);
    await file.close();
  }

  async write(
    blobId: string,
    offset: number,
    data: AsyncIterable<Uint8Array>,
    maxBytes: number,
  ): Promise<number> {
    const file = await open(this.path(blobId), constants.O_WRONLY);
    let written = 0;
    try {
      for await (const chunk of data) {
        if (written + chunk.length > maxBytes) throw new BlobWriteOverflow("more bytes than declared");
        let at = 0;
        while (at < chunk.length) {
          const { bytesWritten } = await file.write(chunk, at, chunk.length - at, offset + written + at);
          at += bytesWritten;
        }
        written += chunk.length;
      }
      await file.datasync();
    } finally {
      await file.close();
    }
    return written;
  }

  read(blobId: string, start: number, end: number): Readable {
    if (end <= start) return createReadStream(this.path(blobId), { start: 0, end: -1 });
    return createReadStream(this.path(blobId), { start, end: end - 1, highWaterMark: 256 * 1024 });
  }

  remove(blobId: string): Promise<void> {
    const work = this.removeNow(blobId);
    this.removing.add(work);
    void work.finally(() => this.removing.delete(work));
    return work;
  }

  private async removeNow(blobId: string): Promise<void> {
    const path = this.path(blobId);
    try {
      const file = await open(path, constants.O_WRONLY);
      try {
        const { size } = await file.stat();
        const zeros = Buffer.alloc(Math.min(size, 1024 * 1024));
        for (let at = 0; at < size; at += zeros.length) {
          await file.write(zeros, 0, Math.min(zeros.length, size - at), at);
        }
        await file.datasync();
      } finally {
        await file.close();
      }
      await unlink(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
  }

  async list(): Promise<string[]> {
    try {
      return (await readdir(this.dir)).filter((name) => Id.safeParse(name).success);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw e;
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.removing]);
  }
}
