/**
 * Spreads the encoding of large replies over event-loop turns.
 *
 * The relay has one thread. A reply of 8 MiB bodies is ~11 MiB of base64url; encoded in one go, or
 * by twelve streams each encoding as fast as its socket drains, it keeps the loop busy for tens to
 * hundreds of milliseconds, and every other client's request waits that long (bench/abuse
 * `big-fetches`: p99 ~200 ms). Here each piece of a large reply first waits for a turn: at most
 * `perTurn` pieces are granted per turn of the loop (a `setImmediate`), in arrival order, and a reply
 * that got a piece queues again behind the others. Between two grants the loop polls for I/O, so a
 * small request never waits for more than a few pieces of other people's large replies, while large
 * replies still go as fast as the loop turns when nothing else is waiting. Small replies never wait
 * here (see SMALL_REPLY_BYTES).
 */
export class TurnPacer {
  private readonly waiting: (() => void)[] = [];
  private scheduled = false;

  constructor(readonly perTurn = 2) {
    if (!Number.isSafeInteger(perTurn) || perTurn < 1)
      throw new RangeError("perTurn must be a positive integer");
  }

  /** Resolves in a later turn of the event loop, once the pieces queued before have had theirs. */
  turn(): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.schedule();
    });
  }

  /** Pieces waiting now (for tests and metrics). */
  get queued(): number {
    return this.waiting.length;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      for (const grant of this.waiting.splice(0, this.perTurn)) grant();
      if (this.waiting.length > 0) this.schedule();
    });
  }
}
