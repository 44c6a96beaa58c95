import type { Unsubscribe } from "../../bus/bus.js";
import type { RelayContext } from "../../relay/context.js";
import type { StoredMessage } from "../../store/store.js";

/** Messages read from the store per round while pushing; small, so acks interleave with a backlog. */
const BATCH = 16;
/**
 * Bytes of bodies read per round (the first message whatever its size): a subscription holds what it
 * read until it is pushed, outside the reply budget, so it reads little ahead.
 */
const READ_AHEAD_BYTES = 1024 * 1024;

/**
 * Unicast: at most this many messages pushed on one subscription and not yet acknowledged through
 * it. A client that does not acknowledge gets this many and then nothing more until it does, so it
 * cannot make the relay push (and hold ids for) a whole backlog.
 */
export const MAX_IN_FLIGHT = 128;

export interface SubscriptionOptions {
  /** A broadcast queue: nothing is acknowledged, the subscription keeps its place instead. */
  broadcast: boolean;
  /** Broadcast only: start after this position (the subscriber's cursor); undefined: from the start. */
  afterSeq?: number | undefined;
}

/**
 * One socket's subscription to one queue: pushes every pending message once, in queue order, then
 * each new one as the bus announces it.
 *
 * Both modes read by position: the subscription keeps the `seq` of the last message pushed and
 * each read asks the store for the next few after it, so a read costs the rows it returns, however
 * large the backlog. Positions never go backwards within a queue (see Store.enqueue), so a message
 * that arrives later is always found after the position.
 *
 * Unicast: a message stays in the store until acknowledged, so this subscription pushes it once and
 * a later subscription (after a reconnect, or a repeated `sub`, which starts from the beginning of
 * the queue) pushes it again: at-least-once delivery. At most MAX_IN_FLIGHT pushed messages may wait
 * for their ack: at the cap the drain pauses, and an ack through this subscription (`acknowledged`)
 * resumes it. The ids in flight are kept only for that count, never more than the cap.
 *
 * Broadcast: nobody acknowledges (every member reads the same stored copy), so there is no cap and
 * the subscription keeps only its position. Every subscriber of the queue is woken by the bus and
 * reads on from its own position, so each gets every message once, in queue order.
 */
export class Subscription {
  /** The position of the last message pushed (broadcast: or the cursor it started from). */
  private position: number | undefined;
  /** Unicast: pushed on this subscription and not yet acknowledged through it (≤ MAX_IN_FLIGHT). */
  private readonly inFlight = new Set<string>();
  /** Unicast: the last drain stopped at the cap; the next ack resumes it. */
  private paused = false;
  private readonly broadcast: boolean;
  private unsubscribe: Unsubscribe | undefined;
  private draining = false;
  private again = false;
  private stopped = false;
  /** The last drain read to the end of the queue, and every message announced since was pushed here. */
  private caughtUp = false;
  /** The pushes of messages handed over by the bus (announced), one after another. */
  private handing: Promise<void> = Promise.resolve();
  /** Handed-over messages that came before the one they follow, by their prevSeq (see mayWait). */
  private readonly early = new Map<number, StoredMessage>();
  private earlyCheck: NodeJS.Immediate | undefined;
  /** Messages handed over and not yet pushed, and their bytes. */
  private handingCount = 0;
  private handingBytes = 0;

  constructor(
    readonly queueId: string,
    private readonly ctx: RelayContext,
    /** Resolves once the frame is handed to the socket, which paces a large backlog. */
    private readonly push: (queueId: string, message: StoredMessage) => Promise<void>,
    private readonly onError: (error: unknown) => void,
    options: SubscriptionOptions = { broadcast: false },
  ) {
    this.broadcast = options.broadcast;
    this.position = options.broadcast ? options.afterSeq : undefined;
  }

  start(): void {
    // Subscribe before the first drain so nothing that arrives in between is missed; a network bus
    // tells once its subscription is live everywhere, and the store is read again then.
    this.unsubscribe = this.ctx.bus.subscribe(
      this.queueId,
      (message) => this.announced(message),
      () => this.kick(),
    );
    this.kick();
  }

  /**
   * A message was stored in the queue. When the bus hands it over (a store of this process that had
   * its body in hand) and this subscription is caught up, it is pushed as it is, without a read of
   * the store: reading each pushed message back was ~8% of the relay's time per message (bench
   * cluster; on PostgreSQL a query per delivery). Caught up means the last drain read to the end of
   * the queue and every announcement since was handed over and taken here. Within one process
   * (Bus.inOrder) the store announces its messages in the order of their positions, each after its
   * commit, so the messages announced since that read are exactly the queue's new messages, in
   * order. Between nodes the message must also follow the last one pushed here: its `prevSeq` (the
   * queue's last position before it) is this subscription's position, so nothing was stored in
   * between, whichever node stored it and in whatever order the bus delivers several nodes'
   * announcements; one that comes before the message it follows waits for the end of the turn
   * (mayWait). Anything else (a message without its body, a gap still there after that turn, a
   * drain under way, the cap of messages in flight reached, between nodes nothing pushed yet) reads
   * the store as before, and the subscription is no longer caught up until a drain reaches the end
   * again.
   */
  private announced(message: StoredMessage | undefined): void {
    if (message !== undefined && this.follows(message)) {
      // The body is the sender's buffer, reused once its send is answered: a copy goes to the push.
      this.handOver({ ...message, body: Buffer.from(message.body) });
      // Messages that came before this one and waited for it (`early`) follow it now.
      for (
        let next = this.early.get(this.position!);
        next && this.follows(next);
        next = this.early.get(this.position!)
      ) {
        this.early.delete(next.prevSeq!);
        this.handOver(next);
      }
      return;
    }
    if (message !== undefined && this.mayWait(message)) {
      this.early.set(message.prevSeq!, { ...message, body: Buffer.from(message.body) });
      this.earlyCheck ??= setImmediate(() => {
        this.earlyCheck = undefined;
        if (this.early.size > 0) this.readInstead();
      });
      return;
    }
    this.readInstead();
  }

  /** Taken as it is: caught up, with room for it, and right after the last message pushed here. */
  private follows(message: StoredMessage): boolean {
    return (
      this.caughtUp &&
      !this.draining &&
      !this.stopped &&
      this.room() > 0 &&
      (this.ctx.bus.inOrder
        ? // One process: the messages announced since the last read are exactly the queue's new
          // ones, in order (the rule this relay has had since the hand-over began).
          this.position === undefined || message.seq > this.position
        : this.position !== undefined && message.prevSeq === this.position) &&
      // Held until pushed: no more than a drain would have read ahead (a slow socket on a busy
      // broadcast queue, which has no cap in flight, must not make this hold every message).
      this.handingCount < BATCH &&
      (this.handingCount === 0 || this.handingBytes + message.body.length <= READ_AHEAD_BYTES)
    );
  }

  /**
   * A message that came before the one it follows: two inserts into the same queue answered in the
   * same turn on two of the pool's connections are announced in the order their replies were read,
   * and a publisher's announcements reach every node in the order they were published, so the one
   * it follows is usually in the same read from the bus. It waits for the end of this turn.
   */
  private mayWait(message: StoredMessage): boolean {
    return (
      !this.ctx.bus.inOrder &&
      this.caughtUp &&
      !this.draining &&
      !this.stopped &&
      this.position !== undefined &&
      message.prevSeq !== undefined &&
      message.prevSeq > this.position &&
      this.early.size < BATCH
    );
  }

  /** The store is read for what was announced: no longer caught up until a drain reaches the end. */
  private readInstead(): void {
    this.early.clear();
    this.caughtUp = false;
    this.kick();
  }

  /** Pushes a message handed over by the bus (a copy of its body), in order behind the others. */
  private handOver(copy: StoredMessage): void {
    this.ctx.metrics?.handedOver.inc();
    this.position = copy.seq;
    if (!this.broadcast) this.inFlight.add(copy.msgId);
    // In order behind the hand-overs before it (a push may wait for room in the byte budgets); a
    // drain waits for them too before it pushes anything read after them.
    this.handingCount++;
    this.handingBytes += copy.body.length;
    this.handing = this.handing
      .then(() => (this.stopped ? undefined : this.push(this.queueId, copy)))
      .catch((e) => {
        if (!this.stopped) this.onError(e);
      })
      .finally(() => {
        this.handingCount--;
        this.handingBytes -= copy.body.length;
      });
  }

  stop(): void {
    this.stopped = true;
    this.early.clear();
    if (this.earlyCheck) clearImmediate(this.earlyCheck);
    this.earlyCheck = undefined;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.inFlight.clear();
  }

  /** A broadcast queue's subscription (nothing on it is acknowledged). */
  get isBroadcast(): boolean {
    return this.broadcast;
  }

  /** Messages handed over by the bus and not yet pushed: for tests. */
  get handedCount(): number {
    return this.handingCount;
  }

  /** Number of ids held for this subscription (unicast: in flight; always 0 for broadcast): for tests. */
  get trackedCount(): number {
    return this.inFlight.size;
  }

  /**
   * The client acknowledged `msgId` (or tried to: a message already gone no longer waits either).
   * Frees its place under the cap and resumes a paused drain.
   */
  acknowledged(msgId: string): void {
    if (!this.inFlight.delete(msgId) || !this.paused) return;
    this.paused = false;
    this.kick();
  }

  private kick(): void {
    this.drain().catch((e) => {
      if (!this.stopped) this.onError(e);
    });
  }

  /** How many more messages may be pushed now. */
  private room(): number {
    return this.broadcast ? BATCH : Math.min(BATCH, MAX_IN_FLIGHT - this.inFlight.size);
  }

  /** One drain at a time; a wake-up during a drain makes it go round once more. */
  private async drain(): Promise<void> {
    if (this.draining) {
      this.again = true;
      return;
    }
    this.draining = true;
    this.caughtUp = false;
    // What waited for its predecessor is read with the rest.
    this.early.clear();
    let reachedEnd = false;
    try {
      // Messages handed over are pushed before anything this drain reads after them.
      await this.handing;
      do {
        this.again = false;
        reachedEnd = false;
        for (;;) {
          if (this.stopped) return;
          const limit = this.room();
          if (limit <= 0) {
            // At the cap: wait for an ack. Set before the drain ends, with no await in between,
            // so an ack arriving later always finds it.
            this.paused = true;
            return;
          }
          const page = { more: true };
          const batch = await this.ctx.store.fetchPending(this.queueId, {
            limit,
            maxBytes: Math.min(READ_AHEAD_BYTES, this.ctx.config.maxFetchBytes),
            ...(this.position === undefined ? {} : { afterSeq: this.position }),
            page,
          });
          if (batch.length === 0) {
            reachedEnd = true;
            break;
          }
          for (const message of batch) {
            if (this.stopped) return;
            this.position = message.seq;
            if (!this.broadcast) this.inFlight.add(message.msgId);
            await this.push(this.queueId, message);
          }
          // The read reached the end of the queue: a message stored after it started is announced
          // on the bus after its commit, and that wake-up (`again`, or a new drain) reads it.
          if (!page.more) {
            reachedEnd = true;
            break;
          }
        }
      } while (this.again && !this.stopped);
      // Nothing was announced since the last read (else `again`), which reached the end.
      this.caughtUp = reachedEnd && !this.stopped;
    } finally {
      this.draining = false;
    }
  }
}
