/**
 * Reusable buffers for large message bodies on their way out in fetch replies.
 *
 * Why: a body read from its file into a fresh 8 MiB Buffer is memory outside V8's heap, and V8
 * answers every few tens of MiB of such allocations with an "external memory pressure" collection
 * (a scavenge, then incremental marking finished on the main thread) even though the heap itself
 * is ~20 MiB. With twelve clients fetching 8 MiB messages in a loop that was a collection every
 * second, in pauses of 10–90 ms that every other client's request waited out (issue 7, abuse bench
 * `big-fetches`, `--trace-gc`). Buffers taken from here are reused instead of allocated, so a
 * steady stream of large replies allocates nothing.
 *
 * Buffers come in power-of-two size classes (a body of n bytes gets the smallest class ≥ n; the
 * padding buckets are powers of two, so little is wasted). Memory held is bounded twice: what is in
 * use by `replyBudgetBytes` (a fetch leases its bytes before it reads), what is kept for reuse by
 * `keepBytes`; and everything kept is dropped after `idleMs` without a borrower, so a relay that
 * served one burst of large fetches goes back to its idle size.
 */
export interface BodyBuffers {
  /** A buffer of exactly `size` bytes whose contents are undefined; valid until given back. */
  take(size: number): Buffer;
}

/** One reply's buffers: taken one by one while its bodies are read, all given back at once. */
export interface Borrower extends BodyBuffers {
  /** Gives every buffer taken back to the pool; idempotent. After it, the buffers must not be used. */
  giveBack(): void;
}

/** The smallest size class: the store reads only large bodies (kept in files) into pooled buffers. */
const MIN_CLASS = 64 * 1024;

export class BodyPool {
  private readonly free = new Map<number, Buffer[]>();
  private keptBytes = 0;
  private borrowers = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Buffers allocated since the pool was made (for tests and metrics: steady state adds none). */
  allocations = 0;

  constructor(
    readonly keepBytes: number,
    readonly idleMs = 30_000,
  ) {
    if (!Number.isFinite(keepBytes) || keepBytes < 0) throw new RangeError("keepBytes must be ≥ 0");
  }

  /** Bytes held for reuse right now. */
  get kept(): number {
    return this.keptBytes;
  }

  borrower(): Borrower {
    this.borrowers++;
    clearTimeout(this.idleTimer);
    const taken: Buffer[] = [];
    let done = false;
    return {
      take: (size) => {
        if (done) throw new Error("a borrower that gave its buffers back cannot take more");
        const buffer = this.takeBuffer(size);
        taken.push(buffer);
        return buffer.subarray(0, size);
      },
      giveBack: () => {
        if (done) return;
        done = true;
        for (const buffer of taken) this.keep(buffer);
        taken.length = 0;
        if (--this.borrowers === 0) this.dropWhenIdle();
      },
    };
  }

  /** Drops everything kept (closing the relay, tests). */
  clear(): void {
    clearTimeout(this.idleTimer);
    this.free.clear();
    this.keptBytes = 0;
  }

  private takeBuffer(size: number): Buffer {
    const capacity = classOf(size);
    const kept = this.free.get(capacity)?.pop();
    if (kept) {
      this.keptBytes -= capacity;
      return kept;
    }
    this.allocations++;
    // allocUnsafeSlow: a buffer of its own (never a view of Node's shared slab), so keeping it
    // keeps nothing else alive. Its contents are overwritten by the read before anyone sees them.
    return Buffer.allocUnsafeSlow(capacity);
  }

  private keep(buffer: Buffer): void {
    const capacity = buffer.length;
    if (this.keptBytes + capacity > this.keepBytes) return; // to the collector
    const list = this.free.get(capacity);
    if (list) list.push(buffer);
    else this.free.set(capacity, [buffer]);
    this.keptBytes += capacity;
  }

  private dropWhenIdle(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.clear(), this.idleMs);
    this.idleTimer.unref(); // an idle pool never keeps the process alive
  }
}

/** The size class of a body: the smallest power of two ≥ size (at least MIN_CLASS). */
export function classOf(size: number): number {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`not a body size: ${size}`);
  let capacity = MIN_CLASS;
  while (capacity < size) capacity *= 2;
  return capacity;
}
