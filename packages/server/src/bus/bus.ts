import type { StoredMessage } from "../store/store.js";

/**
 * "Something arrived on queue X": how the relay instance that accepted a message wakes up the
 * WebSocket subscribers of that queue, which may live in another instance once there is more than
 * one (a NATS bus then). Notifications carry the queue id; subscribers read the store. The bus may
 * also hand over the message itself (see `publish`), so that a subscriber that is caught up pushes
 * it without reading it back.
 */
export type Unsubscribe = () => void;

export interface Bus {
  /**
   * Announcements of a queue reach subscribers in the order of the messages' positions (one process,
   * whose store announces each message after its commit, in commit order): a caught-up subscriber
   * may take any message after its position. False for a bus between nodes, where two nodes'
   * announcements can arrive in either order: a subscriber takes only the message whose `prevSeq`
   * is its position (Subscription.follows).
   */
  readonly inOrder: boolean;
  /**
   * `message`: the message just stored, when the caller has it in hand (an inline body), with its
   * `prevSeq`. A bus that delivers within the process passes it to its handlers, synchronously: its
   * body is the caller's buffer, valid only during the call (a handler that keeps it copies it). A
   * network bus carries it to every node when it is small (handover.ts), else the queue id only;
   * announcements from several nodes may arrive in any order.
   */
  publish(queueId: string, message?: StoredMessage): Promise<void>;
  /**
   * `handler` runs once per publish on that queue after subscribing, until unsubscribed, with the
   * publish's message if the bus passes it (see `publish`).
   *
   * `onLive`: a network bus, whose subscription reaches its server some time after this returns,
   * calls it once the subscription is sure to see every later publish from any node, so the caller
   * can read the store again for what was published in between. A bus that is live at once (the
   * local one) need not call it.
   */
  subscribe(queueId: string, handler: (message?: StoredMessage) => void, onLive?: () => void): Unsubscribe;
  /** Rejects while the bus cannot deliver between nodes (for /healthz); omitted: always healthy. */
  probe?(): Promise<void>;
  close(): Promise<void>;
}
