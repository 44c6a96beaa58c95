/**
 * A byte budget (a counting semaphore over bytes): bounds how many message bytes the relay holds
 * for replies at once. A fetch or push takes a lease for its size before it reads or encodes the
 * bodies and gives it back once the reply is written, so memory for replies stays near the limit
 * however many clients fetch at once. Waiters are served in arrival order, so a large request is
 * not starved by a stream of small ones.
 *
 * Small replies (at most `smallMax` bytes: chat messages, receipts, commits) have a reserve of their
 * own on top of the limit, and do not queue behind large waiters: a few clients fetching 8 MiB
 * messages at once must not hold up everyone's next chat line (measured in bench/abuse: 1 s p99
 * before). Large requests never use the reserve, so it is always there for small ones.
 */
import { Problem } from "../problem.js";

export interface Lease {
  /** Bytes currently held. */
  readonly bytes: number;
  /** Gives back all but `bytes` (no-op if it holds that little already). */
  shrink(bytes: number): void;
  /** Gives everything back; idempotent. */
  release(): void;
}

export interface AcquireOptions {
  /** Refuse with `busy` after waiting this long; omitted: wait until there is room (or `signal`). */
  waitMs?: number | undefined;
  /** Aborting gives up the wait (the promise rejects with the signal's reason). */
  signal?: AbortSignal | undefined;
}

interface Waiter {
  bytes: number;
  grant: (lease: Lease) => void;
  fail: (error: unknown) => void;
}

/** What counts as a small reply: a chat message's padding bucket and well beyond. */
export const SMALL_REPLY_BYTES = 64 * 1024;
/** The default reserve for small replies in the relay-wide budget. */
export const SMALL_REPLY_RESERVE = 4 * 1024 * 1024;

export const busy = () =>
  new Problem("busy", "the relay is busy sending other replies; try again in a few seconds");

export class ByteBudget {
  private used = 0;
  private high = 0;
  private readonly waiters: Waiter[] = [];

  constructor(
    readonly limit: number,
    readonly smallReserve = 0,
    readonly smallMax = SMALL_REPLY_BYTES,
  ) {
    if (!Number.isFinite(limit) || limit <= 0) throw new RangeError("a byte budget needs a positive limit");
  }

  /** A small request that the reserve has room for: granted at once, ahead of large waiters. */
  private fitsReserve(want: number): boolean {
    return (
      this.smallReserve > 0 && want <= this.smallMax && this.used + want <= this.limit + this.smallReserve
    );
  }

  /** Bytes leased now. */
  get inUse(): number {
    return this.used;
  }

  /** The most bytes ever leased at once. */
  get highWater(): number {
    return this.high;
  }

  /** Requests waiting for room. */
  get waiting(): number {
    return this.waiters.length;
  }

  /**
   * A lease for `bytes` — at most the whole limit, so a request larger than the budget still runs,
   * alone — once there is room and everyone who asked earlier has been served.
   */
  acquire(bytes: number, options: AcquireOptions = {}): Promise<Lease> {
    const want = this.clamp(bytes);
    const { signal, waitMs } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.waiters.length === 0 && this.used + want <= this.limit) return Promise.resolve(this.lease(want));
    if (this.fitsReserve(want)) return Promise.resolve(this.lease(want));
    if (waitMs !== undefined && waitMs <= 0) return Promise.reject(busy());
    return new Promise<Lease>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      const waiter: Waiter = {
        bytes: want,
        grant: (lease) => {
          done();
          resolve(lease);
        },
        fail: (error) => {
          done();
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(error);
          // The head leaving may let the next ones in.
          this.pump();
        },
      };
      const onAbort = () => waiter.fail(signal?.reason);
      signal?.addEventListener("abort", onAbort, { once: true });
      if (waitMs !== undefined) timer = setTimeout(() => waiter.fail(busy()), waitMs);
      this.waiters.push(waiter);
    });
  }

  /** A lease now, or undefined if there is no room (or others are waiting). */
  tryAcquire(bytes: number): Lease | undefined {
    const want = this.clamp(bytes);
    return (this.waiters.length === 0 && this.used + want <= this.limit) || this.fitsReserve(want)
      ? this.lease(want)
      : undefined;
  }

  private clamp(bytes: number): number {
    if (!Number.isFinite(bytes) || bytes < 0) throw new RangeError(`cannot lease ${bytes} bytes`);
    return Math.min(Math.ceil(bytes), this.limit);
  }

  private lease(bytes: number): Lease {
    this.used += bytes;
    if (this.used > this.high) this.high = this.used;
    let held = bytes;
    const give = (n: number) => {
      if (n <= 0) return;
      held -= n;
      this.used -= n;
      this.pump();
    };
    return {
      get bytes() {
        return held;
      },
      shrink: (to: number) => give(held - Math.max(0, Math.ceil(to))),
      release: () => give(held),
    };
  }

  private pump(): void {
    while (this.waiters.length > 0) {
      const head = this.waiters[0]!;
      if (this.used + head.bytes > this.limit) return;
      this.waiters.shift();
      head.grant(this.lease(head.bytes));
    }
  }
}
