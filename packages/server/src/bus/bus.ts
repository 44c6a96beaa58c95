/**
 * "Something arrived on queue X": how the relay instance that accepted a message wakes up the
 * WebSocket subscribers of that queue, which may live in another instance once there is more than
 * one (a NATS bus then). Notifications carry the queue id only; subscribers read the store.
 */
export type Unsubscribe = () => void;

export interface Bus {
  publish(queueId: string): Promise<void>;
  /**
   * `handler` runs once per publish on that queue after subscribing, until unsubscribed.
   *
   * `onLive`: a network bus, whose subscription reaches its server some time after this returns,
   * calls it once the subscription is sure to see every later publish from any node, so the caller
   * can read the store again for what was published in between. A bus that is live at once (the
   * local one) need not call it.
   */
  subscribe(queueId: string, handler: () => void, onLive?: () => void): Unsubscribe;
  /** Rejects while the bus cannot deliver between nodes (for /healthz); omitted: always healthy. */
  probe?(): Promise<void>;
  close(): Promise<void>;
}
