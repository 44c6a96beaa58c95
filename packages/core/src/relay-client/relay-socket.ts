/**
 * Live delivery over the relay's WebSocket: subscribes a device's queues, hands each message to the
 * caller one at a time, acknowledges it only after the caller has stored it, and reconnects by
 * itself with backoff when the connection drops (a relay restart, a network change).
 *
 * Broadcast queues (a group's shared queue) are never acknowledged: every (re)subscription carries
 * the queue's cursor, the last message the caller processed, so the relay pushes only what follows.
 */
import type { CryptoProvider } from "../crypto/provider.js";
import { fromBase64Url } from "../encoding/base64url.js";
import { ACK_BATCH_LIMIT, PushHead, ServerFrame, splitHeadedFrame } from "../protocol/relay.js";
import { RelayError } from "./errors.js";
import { normalizeRelayUrl } from "./relay-http.js";
import { type QueueCredentials, signRecipientCommand } from "./signing.js";

/** The part of the WebSocket API we use; satisfied by browsers' WebSocket and the `ws` package. */
export interface WebSocketLike {
  readonly readyState: number;
  /** Set to "arraybuffer": pushed messages come as binary frames (a browser would give Blobs). */
  binaryType?: string;
  send(data: string): void;
  close(): void;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
}
export type WebSocketFactory = (url: string) => WebSocketLike;

export type SocketStatus = "connecting" | "open" | "closed";

export interface RelaySocketOptions {
  webSocket: WebSocketFactory;
  onMessage: (queue: QueueCredentials, msgId: string, body: Uint8Array) => Promise<void>;
  /**
   * Broadcast queues: the msgId of the last message processed on `queue` (undefined: none yet), asked
   * on every (re)subscribe once every message received so far has been handled. Without it the
   * socket uses the last message it handled itself in this process.
   */
  cursorFor?: (queue: QueueCredentials) => Promise<string | undefined>;
  /**
   * Broadcast queues: the relay no longer holds the cursor of a (re)subscription (it expired), so it
   * is delivering everything it holds; messages between the cursor and those may have been missed.
   */
  onCursorNotFound?: (queue: QueueCredentials) => void;
  onStatus?: (status: SocketStatus, detail?: string) => void;
  /**
   * Awaited before a message is acknowledged (the relay then deletes it): the caller makes what
   * `onMessage` stored durable here. Acknowledgements wait for it on their own, without holding up
   * the next message, so many messages share one wait.
   */
  beforeAck?: () => Promise<void>;
  /** A RelayError for what the relay sent; any other error is a local failure handling a delivery. */
  onError?: (error: Error) => void;
  maxBackoffMs?: number;
  /**
   * Other nodes of the same relay: after a lost connection the socket reconnects to the next one
   * (and subscribes again there), so a node that dies moves its clients elsewhere.
   */
  alternates?: readonly string[];
  /**
   * Every this many ms without a frame from the relay, the socket sends a `ping`; when the next
   * interval passes still without one, the connection is taken as lost (a link cut silently leaves
   * TCP open for minutes) and the socket moves on, to the next node when there are several.
   * Default 15 s; 0: never.
   */
  pingIntervalMs?: number;
}

const OPEN = 1;
const PING_INTERVAL_MS = 15_000;

export class RelaySocket {
  private socket: WebSocketLike | undefined;
  private readonly queues = new Map<string, QueueCredentials>();
  private nextId = 1;
  private closed = false;
  private backoffMs = 250;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** Messages are processed strictly one after another, in arrival order. */
  private chain: Promise<void> = Promise.resolve();
  /** Every node's WebSocket URL, the relay's own first; `node` is the one in use. */
  private readonly wsUrls: string[];
  private node = 0;
  /** The connection that just closed had been open: with several nodes, the next is tried at once. */
  private wasOpen = false;
  /** Broadcast queues: the last message handled here, the cursor when `cursorFor` is not given. */
  private readonly lastHandled = new Map<string, string>();
  /** `sub` frames awaiting their reply: frame id → queue id. */
  private readonly pendingSubs = new Map<number, string>();
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  /** A frame came from the relay since the last liveness check. */
  private heard = false;
  /** A ping went out at the last check and nothing has come since. */
  private pinged = false;
  /** Ids of pings sent: their replies (`ok`, or `err` from a relay that predates ping) are not errors. */
  private readonly pingIds = new Set<number>();
  /**
   * Acks ready to go, per queue, for the connection that pushed them: sent together as one session
   * ack per queue (unsigned: the connection's signed `sub` is the proof) once the current burst is
   * handled, so a burst of N messages costs one frame, no signature.
   */
  private acks: { socket: WebSocketLike; byQueue: Map<string, string[]> } | undefined;
  private ackTimer: ReturnType<typeof setTimeout> | undefined;
  /** Session acks in flight: frame id → what it acknowledged (to sign them if the relay predates them). */
  private readonly sessionAcks = new Map<number, { queueId: string; msgIds: string[] }>();
  /** The relay refused a session ack as a command it does not know: acks are signed one by one. */
  private signedAcks = false;

  constructor(
    relayUrl: string,
    private readonly crypto: CryptoProvider,
    private readonly options: RelaySocketOptions,
  ) {
    this.wsUrls = [relayUrl, ...(options.alternates ?? [])]
      .map((u) => `${normalizeRelayUrl(u).replace(/^http/, "ws")}/v1/ws`)
      .filter((u, i, all) => all.indexOf(u) === i);
  }

  start(queues: QueueCredentials[]): void {
    for (const q of queues) this.queues.set(q.queueId, q);
    this.connect();
  }

  /** Subscribes one more queue, now if connected, else on the next (re)connect. */
  async addQueue(queue: QueueCredentials): Promise<void> {
    if (this.queues.has(queue.queueId)) return;
    this.queues.set(queue.queueId, queue);
    // Nothing of this queue has been pushed here yet, so there is nothing to wait for before asking
    // for its cursor (and `addQueue` may well be called from inside `onMessage`).
    if (this.socket?.readyState === OPEN) await this.subscribe(this.socket, queue, false);
  }

  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.ackTimer !== undefined) clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    this.acks = undefined;
    this.stopPings();
    this.socket?.close();
    this.options.onStatus?.("closed");
  }

  /** Resolves when every message received so far has been handled. */
  idle(): Promise<void> {
    return this.chain;
  }

  private connect(): void {
    if (this.closed) return;
    this.options.onStatus?.("connecting");
    const socket = this.options.webSocket(this.wsUrls[this.node]!);
    socket.binaryType = "arraybuffer";
    this.socket = socket;
    this.pendingSubs.clear();
    this.sessionAcks.clear();
    socket.onopen = () => {
      this.backoffMs = 250;
      this.wasOpen = true;
      this.options.onStatus?.("open");
      this.startPings(socket);
      for (const q of this.queues.values()) {
        this.subscribe(socket, q, true).catch((e) => this.options.onError?.(e as Error));
      }
    };
    socket.onmessage = (ev) => {
      this.heard = true;
      this.onFrame(socket, ev.data);
    };
    socket.onerror = () => {
      // onclose follows; reconnecting happens there.
    };
    socket.onclose = () => this.lost(socket);
  }

  /** Liveness checks on an open connection (see `pingIntervalMs`). */
  private startPings(socket: WebSocketLike): void {
    this.stopPings();
    const every = this.options.pingIntervalMs ?? PING_INTERVAL_MS;
    if (every <= 0) return;
    this.heard = false;
    this.pinged = false;
    this.pingIds.clear();
    this.pingTimer = setInterval(() => {
      if (this.socket !== socket || socket.readyState !== OPEN) return this.stopPings();
      if (this.heard) {
        this.heard = false;
        this.pinged = false;
        return;
      }
      if (this.pinged) {
        // Nothing for a whole interval after a ping: the link is gone though TCP has not noticed.
        // Dropped without a close handshake (it would wait for the dead peer), then moved on.
        this.options.onStatus?.("connecting", "no answer from the relay");
        socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
        const terminate = (socket as { terminate?: () => void }).terminate;
        if (terminate) terminate.call(socket);
        else socket.close();
        this.lost(socket);
        return;
      }
      this.pinged = true;
      this.pingIds.add(this.nextId);
      socket.send(JSON.stringify({ cmd: "ping", id: this.nextId++ }));
    }, every);
    (this.pingTimer as { unref?: () => void }).unref?.();
  }

  private stopPings(): void {
    if (this.pingTimer !== undefined) clearInterval(this.pingTimer);
    this.pingTimer = undefined;
  }

  /** The connection is gone: to the next node, or the same one after a pause. */
  private lost(socket: WebSocketLike): void {
    if (this.socket !== socket || this.closed) return;
    this.stopPings();
    // Another node of the relay, if it has several; the first retry goes there at once.
    this.node = (this.node + 1) % this.wsUrls.length;
    if (this.wsUrls.length > 1 && this.wasOpen) {
      this.wasOpen = false;
      this.options.onStatus?.("connecting", "reconnecting to another node");
      this.retryTimer = setTimeout(() => this.connect(), 0);
      return;
    }
    this.options.onStatus?.("connecting", `reconnecting in ${this.backoffMs} ms`);
    this.retryTimer = setTimeout(() => this.connect(), this.backoffMs);
    this.backoffMs = Math.min(this.backoffMs * 2, this.options.maxBackoffMs ?? 10_000);
  }

  /**
   * Sends `sub` for one queue; for a broadcast queue with its cursor. `afterHandled`: first wait until
   * every message received so far (on an earlier connection) has been handled, so the cursor comes
   * after them and they are not pushed (and handled) twice.
   */
  private async subscribe(
    socket: WebSocketLike,
    queue: QueueCredentials,
    afterHandled: boolean,
  ): Promise<void> {
    let cursor: string | undefined;
    if (queue.broadcast === true) {
      if (afterHandled) await this.chain;
      cursor = await this.cursorOf(queue);
    }
    const cmd = await signRecipientCommand(
      this.crypto,
      fromBase64Url(queue.recipientSecretKey),
      "sub",
      queue.queueId,
      cursor,
    );
    if (socket.readyState !== OPEN || this.socket !== socket) return;
    const id = this.nextId++;
    this.pendingSubs.set(id, queue.queueId);
    socket.send(JSON.stringify({ ...cmd, id }));
  }

  /** Where a broadcast subscription resumes: after the last message processed. */
  private async cursorOf(queue: QueueCredentials): Promise<string | undefined> {
    if (this.options.cursorFor) return this.options.cursorFor(queue);
    return this.lastHandled.get(queue.queueId);
  }

  private onFrame(socket: WebSocketLike, data: unknown): void {
    const malformed = () =>
      this.options.onError?.(new RelayError("malformed_frame", "relay sent a malformed frame"));
    if (typeof data !== "string") {
      // A pushed message: a headed frame, then the body as it is (docs/protocol.md).
      const bytes =
        data instanceof ArrayBuffer ? new Uint8Array(data) : data instanceof Uint8Array ? data : null;
      const split = bytes && splitHeadedFrame(bytes);
      const head = split && PushHead.safeParse(split.head);
      if (split && head?.success) this.onPush(socket, head.data.queueId, head.data.msgId, split.rest);
      else malformed();
      return;
    }
    let frame: ServerFrame;
    try {
      frame = ServerFrame.parse(JSON.parse(data));
    } catch {
      malformed();
      return;
    }
    // A ping's reply; from a relay that predates ping it is an `err`, and no error either.
    if (frame.type !== "msg" && frame.id !== null && this.pingIds.delete(frame.id)) return;
    if (frame.type !== "msg" && frame.id !== null) {
      const acked = this.sessionAcks.get(frame.id);
      this.sessionAcks.delete(frame.id);
      if (acked && frame.type === "err" && frame.code === "bad_request" && !this.signedAcks) {
        // A relay from before session acks (it wants every command signed): sign them instead.
        this.signedAcks = true;
        const queue = this.queues.get(acked.queueId);
        if (queue) {
          for (const msgId of acked.msgIds) {
            void this.sendSignedAck(socket, queue, msgId).catch((e: unknown) =>
              this.options.onError?.(e as Error),
            );
          }
        }
        return;
      }
    }
    if (frame.type === "ok") {
      const queueId = this.pendingSubs.get(frame.id);
      if (queueId === undefined) return;
      this.pendingSubs.delete(frame.id);
      const queue = this.queues.get(queueId);
      if (queue && frame.cursorFound === false) this.options.onCursorNotFound?.(queue);
      return;
    }
    if (frame.type === "err") {
      if (frame.id !== null) this.pendingSubs.delete(frame.id);
      // A duplicate ack (the message was acknowledged by another connection first) is harmless.
      if (frame.code === "unknown_message") return;
      this.options.onError?.(new RelayError(frame.code, `relay: ${frame.code}: ${frame.error}`));
      return;
    }
    // A pushed message in the JSON form of relays before bodies went as bytes.
    let body: Uint8Array;
    try {
      body = fromBase64Url(frame.body);
    } catch {
      this.options.onError?.(
        new RelayError("malformed_frame", "relay sent a message body that is not base64url"),
      );
      return;
    }
    this.onPush(socket, frame.queueId, frame.msgId, body);
  }

  /** A message the relay pushed: handed on in order, then acknowledged (or its cursor kept). */
  private onPush(socket: WebSocketLike, queueId: string, msgId: string, body: Uint8Array): void {
    const queue = this.queues.get(queueId);
    if (!queue) return;
    this.chain = this.chain.then(async () => {
      try {
        await this.options.onMessage(queue, msgId, body);
      } catch (e) {
        // Not acknowledged: the relay delivers it again after the next (re)subscribe (for a
        // broadcast queue: if the caller's cursor has not moved past it).
        this.options.onError?.(e as Error);
        return;
      }
      if (queue.broadcast === true) {
        // Every member reads the same stored copy: nothing to acknowledge, only our place to keep.
        this.lastHandled.set(queue.queueId, msgId);
        return;
      }
      void this.acknowledge(socket, queue, msgId).catch((e: unknown) => this.options.onError?.(e as Error));
    });
  }

  /**
   * Once what handled the message is durable. Not acknowledged (the connection closed meanwhile,
   * the wait failed): the relay pushes it again after the next subscribe, and it is skipped as seen.
   */
  private async acknowledge(socket: WebSocketLike, queue: QueueCredentials, msgId: string): Promise<void> {
    await this.options.beforeAck?.();
    if (this.signedAcks) return this.sendSignedAck(socket, queue, msgId);
    if (this.acks && this.acks.socket !== socket) this.flushAcks();
    this.acks ??= { socket, byQueue: new Map() };
    const ids = this.acks.byQueue.get(queue.queueId) ?? [];
    this.acks.byQueue.set(queue.queueId, ids);
    ids.push(msgId);
    if (ids.length >= ACK_BATCH_LIMIT) this.flushAcks();
    // Once the acks that became ready together (one beforeAck wait) are all in.
    else this.ackTimer ??= setTimeout(() => this.flushAcks(), 0);
  }

  /**
   * One session ack per queue for the acks gathered. Only on the connection that pushed them (its
   * subscription authorizes them); if it closed meanwhile they are dropped, and the relay pushes
   * those messages again after the next subscribe, where they are skipped as seen.
   */
  private flushAcks(): void {
    if (this.ackTimer !== undefined) clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    const acks = this.acks;
    this.acks = undefined;
    if (!acks || acks.socket.readyState !== OPEN || this.socket !== acks.socket) return;
    for (const [queueId, msgIds] of acks.byQueue) {
      const id = this.nextId++;
      this.sessionAcks.set(id, { queueId, msgIds });
      acks.socket.send(JSON.stringify({ cmd: "ack", id, queueId, msgIds }));
    }
  }

  /** A signed ack of one message, for a relay that predates session acks. */
  private async sendSignedAck(socket: WebSocketLike, queue: QueueCredentials, msgId: string): Promise<void> {
    const ack = await signRecipientCommand(
      this.crypto,
      fromBase64Url(queue.recipientSecretKey),
      "ack",
      queue.queueId,
      msgId,
    );
    if (socket.readyState === OPEN) socket.send(JSON.stringify({ ...ack, id: this.nextId++ }));
  }
}
