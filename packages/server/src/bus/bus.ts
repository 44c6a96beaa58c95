/**
 * "Something arrived on queue X": how the relay instance that accepted a message wakes up the
 * WebSocket subscribers of that queue, which may live in another instance once there is more than
 * one (a NATS bus then). Notifications carry the queue id only; subscribers read the store.
 */
export type Unsubscribe = () => void;

export interface Bus {
  publish(queueId: string): Promise<void>;
  /** `handler` runs once per publish on that queue after subscribing, until unsubscribed. */
  subscribe(queueId: string, handler: () => void): Unsubscribe;
  close(): Promise<void>;
}
