import { EventEmitter } from "node:events";
import type { StoredMessage } from "../store/store.js";
import type { Bus, Unsubscribe } from "./bus.js";

/** The single-process bus: an EventEmitter keyed by queue id; the message, when given, goes along. */
export class LocalBus implements Bus {
  readonly inOrder = true;
  private readonly emitter = new EventEmitter();

  constructor() {
    // One listener per subscribed socket and queue: many is normal, not a leak.
    this.emitter.setMaxListeners(0);
  }

  async publish(queueId: string, message?: StoredMessage): Promise<void> {
    this.emitter.emit(queueId, message);
  }

  subscribe(queueId: string, handler: (message?: StoredMessage) => void): Unsubscribe {
    // A throwing handler must not stop the others, nor surface in the publisher.
    const safe = (message?: StoredMessage) => {
      try {
        handler(message);
      } catch {
        // Handlers report their own failures.
      }
    };
    this.emitter.on(queueId, safe);
    return () => {
      this.emitter.off(queueId, safe);
    };
  }

  async close(): Promise<void> {
    this.emitter.removeAllListeners();
  }

  /** Number of live subscriptions (for tests and health). */
  subscriptionCount(): number {
    let n = 0;
    for (const name of this.emitter.eventNames()) n += this.emitter.listenerCount(name);
    return n;
  }
}
