import { Readable } from "node:stream";
import { type BlobStore, BlobWriteOverflow } from "./blob-store.js";

/** Blobs in memory (tests, and relays whose store is in memory): gone when the relay stops. */
export class MemoryBlobStore implements BlobStore {
  private readonly blobs = new Map<string, Buffer>();

  async create(blobId: string): Promise<void> {
    if (!this.blobs.has(blobId)) this.blobs.set(blobId, Buffer.alloc(0));
  }

  async write(
    blobId: string,
    offset: number,
    data: AsyncIterable<Uint8Array>,
    maxBytes: number,
  ): Promise<number> {
    const parts: Buffer[] = [];
    let written = 0;
    for await (const chunk of data) {
      if (written + chunk.length > maxBytes) throw new BlobWriteOverflow("more bytes than declared");
      parts.push(Buffer.from(chunk));
      written += chunk.length;
    }
    const current = this.blobs.get(blobId);
    if (!current) throw new Error("no such blob");
    const incoming = Buffer.concat(parts);
    const next = Buffer.alloc(Math.max(current.length, offset + incoming.length));
    current.copy(next);
    incoming.copy(next, offset);
    this.blobs.set(blobId, next);
    return written;
  }

  read(blobId: string, start: number, end: number): Readable {
    const bytes = this.blobs.get(blobId) ?? Buffer.alloc(0);
    return Readable.from([bytes.subarray(start, Math.max(start, end))]);
  }

  async remove(blobId: string): Promise<void> {
    this.blobs.get(blobId)?.fill(0);
    this.blobs.delete(blobId);
  }

  async list(): Promise<string[]> {
    return [...this.blobs.keys()];
  }

  async close(): Promise<void> {}
}
