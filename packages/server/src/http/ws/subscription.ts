import type { Unsubscribe } from "../../bus/bus.js";
import type { RelayContext } from "../../relay/context.js";
import type { StoredMessage } from "../../store/store.js";

/** Messages read from the store per round while pushing; small, so acks interleave with a backlog. */
const BATCH = 16;

export interface SubscriptionOptions {
  /** A broadcast queue: nothing is acknowledged, the subscription keeps its place instead. */
  broadcast: boolean;
  /** Broadcast only: start after this position (the subscriber's cursor); undefined: from the start. */
  afterSeq?: number | undefined;
}

/**
 * One socket's subscription to one queue: pushes every pending message once, then each new one
 * as the bus announces it.
 *
 * Unicast: a message stays in the store until acknowledged, so this socket gets it once and a
 * later subscription (after a reconnect) gets it again: at-least-once delivery. The ids pushed and
 * not yet acknowledged are kept to skip them.
 *
 * Broadcast: nobody acknowledges (every member reads the same stored copy), so the subscription
 * keeps only its position: the last message pushed. Every subscriber of the queue is woken by the
 * bus and reads on from its own position, so each gets every message once, in queue order.
 */
export class Subscription {
  /** Unicast: pushed on this subscription and not yet acknowledged through it. */
  private readonly delivered = new Set<string>();
  /** Broadcast: the position of the last message pushed (or the cursor it started from). */
  private position: number | undefined;
  private readonly broadcast: boolean;
  private unsubscribe: Unsubscribe | undefined;
  private draining = false;
  private again = false;
  private stopped = false;

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
    // Subscribe before the first drain so nothing that arrives in between is missed.
    this.unsubscribe = this.ctx.bus.subscribe(this.queueId, () => this.kick());
    this.kick();
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  /** Number of ids held for this subscription (always 0 for broadcast): for tests. */
  get trackedCount(): number {
    return this.delivered.size;
  }

  acknowledged(msgId: string): void {
    this.delivered.delete(msgId);
  }

  private kick(): void {
    this.drain().catch((e) => {
      if (!this.stopped) this.onError(e);
    });
  }

  /** One drain at a time; a wake-up during a drain makes it go round once more. */
  private async drain(): Promise<void> {
    if (this.draining) {
      this.again = true;
      return;
    }
    this.draining = true;
    try {
      do {
        this.again = false;
        for (;;) {
          if (this.stopped) return;
          const batch = await this.ctx.store.fetchPending(this.queueId, {
            limit: BATCH,
            maxBytes: this.ctx.config.maxFetchBytes,
            ...(this.broadcast
              ? this.position === undefined
                ? {}
                : { afterSeq: this.position }
              : { exclude: this.delivered }),
          });
          if (batch.length === 0) break;
          for (const message of batch) {
            if (this.stopped) return;
            if (this.broadcast) this.position = message.seq;
            else this.delivered.add(message.msgId);
            await this.push(this.queueId, message);
          }
        }
      } while (this.again && !this.stopped);
    } finally {
      this.draining = false;
    }
  }
}
