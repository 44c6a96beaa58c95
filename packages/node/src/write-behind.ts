import type { FileHandle } from "node:fs/promises";

/**
 * Writes to a file in order while the caller goes on: a download decrypts the next chunk (and the
 * network fills the next piece) while the last one is on its way to the disk. Awaiting each write
 * instead left the socket unread for the length of every write, and the sender waited too.
 *
 * At most `limit` bytes are in flight: `write` resolves once the bytes queued before it leave room
 * (so memory stays bounded), not once its own bytes are written. The caller must leave the bytes
 * it hands over unchanged until `written(bytes)` resolves (or `drain` does). A failed write fails
 * every later `write` and `drain` with its error: nothing after it lands out of order.
 */
export class WriteBehind {
  private tail: Promise<void> = Promise.resolve();
  private inFlight = 0;
  private failure: unknown;
  private failed = false;
  private readonly done = new WeakMap<Uint8Array, Promise<void>>();

  constructor(
    readonly file: FileHandle,
    readonly limit = 2 * 1024 * 1024,
  ) {}

  async write(bytes: Uint8Array): Promise<void> {
    this.throwIfFailed();
    const length = bytes.length;
    this.inFlight += length;
    const job = this.tail.then(async () => {
      if (this.failed) return;
      try {
        let at = 0;
        while (at < length) at += (await this.file.write(bytes, at, length - at)).bytesWritten;
      } catch (e) {
        this.failed = true;
        this.failure = e;
      } finally {
        this.inFlight -= length;
      }
    });
    this.tail = job;
    this.done.set(bytes, job);
    // Room for more: past the limit, wait until what is queued has landed.
    if (this.inFlight > this.limit) await this.tail;
    this.throwIfFailed();
  }

  /** Resolves once `bytes` (handed to `write`) are written; at once if they were never queued. */
  async written(bytes: Uint8Array): Promise<void> {
    await this.done.get(bytes);
    this.throwIfFailed();
  }

  /** Every write queued so far has landed (or the first failure is thrown). */
  async drain(): Promise<void> {
    await this.tail;
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.failed) throw this.failure;
  }
}
