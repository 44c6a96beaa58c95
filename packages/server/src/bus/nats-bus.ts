/**
 * The bus between relay nodes: core NATS publish/subscribe, one subject per queue
 * (`<prefix>.q.<queueId>`), so a notification goes only to the nodes with a subscriber of that queue.
 *
 * Why not JetStream: a notification says "queue X has something new", and the message itself is
 * already committed to the store (PostgreSQL) before it is published; every subscriber reads the
 * store from its own position. A small message rides along (handover.ts), so a subscriber that is
 * caught up pushes it without that read, but the store stays the one that counts: a notification
 * lost or out of order can only make a subscriber read, and a lost one can only delay a delivery,
 * never lose one. The two ways one can be lost are closed here:
 *  - a subscription reaches the NATS server some time after `subscribe` returns: `onLive` is called
 *    once the server has it (a flush), and the subscriber reads the store again then;
 *  - while a node is cut off from NATS, publishes to it are lost: on reconnect every handler runs
 *    once, and every subscriber reads the store again.
 * A node killed after storing a message and before its publish left: `publish` waits (briefly) for
 * the NATS server to have it before the sender gets its 202; if the node dies before that, the sender
 * gets no answer and sends again (clients drop the duplicate; see docs/relay-operations.md).
 */
import { connect, type NatsConnection, type Subscription } from "nats";
import type { StoredMessage } from "../store/store.js";
import type { Bus, Unsubscribe } from "./bus.js";
import { decodeHandover, encodeHandover } from "./handover.js";

export interface NatsBusOptions {
  /** Subject prefix, so several relays (or tests) can share one NATS: default "parley". */
  prefix?: string;
  /** How long a publish waits for the server's confirmation before going on; default 2 s. */
  flushTimeoutMs?: number;
  /** Told when the connection to NATS is lost or comes back. */
  onStatus?: (status: "disconnect" | "reconnect") => void;
}

const PREFIX = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
/** Queue ids are base64url; anything else is hex-encoded so it is always one subject token. */
const token = (queueId: string) =>
  /^[A-Za-z0-9_-]+$/.test(queueId) ? queueId : `x${Buffer.from(queueId).toString("hex")}`;

type Handler = (message?: StoredMessage) => void;

interface Entry {
  sub: Subscription;
  handlers: Set<Handler>;
}

export class NatsBus implements Bus {
  readonly inOrder = false;
  private readonly queues = new Map<string, Entry>();
  private readonly prefix: string;
  private readonly flushTimeoutMs: number;
  private pendingFlush: Promise<void> | undefined;
  private closed = false;
  private connected = true;

  private constructor(
    private readonly nc: NatsConnection,
    options: NatsBusOptions,
  ) {
    this.prefix = options.prefix ?? "parley";
    this.flushTimeoutMs = options.flushTimeoutMs ?? 2000;
    void this.watch(options.onStatus);
  }

  /** Connects to `nats://host:port[,nats://…][?prefix=name]`; reconnects for ever once connected. */
  static async connect(url: string, options: NatsBusOptions = {}): Promise<NatsBus> {
    const parsed = new URL(url.split(",")[0]!);
    const prefix = options.prefix ?? parsed.searchParams.get("prefix") ?? "parley";
    if (!PREFIX.test(prefix)) throw new Error(`not a NATS subject prefix: "${prefix}"`);
    const servers = url.split(",").map((s) => {
      const u = new URL(s);
      u.search = "";
      return u.toString().replace(/\/$/, "");
    });
    const nc = await connect({
      servers,
      name: "parley-relay",
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      timeout: 5000,
      pingInterval: 10_000,
    });
    return new NatsBus(nc, { ...options, prefix });
  }

  private subject(queueId: string): string {
    return `${this.prefix}.q.${token(queueId)}`;
  }

  async publish(queueId: string, message?: StoredMessage): Promise<void> {
    if (this.closed) return;
    this.nc.publish(this.subject(queueId), encodeHandover(message));
    await this.flush();
  }

  subscribe(queueId: string, handler: Handler, onLive?: () => void): Unsubscribe {
    const safe: Handler = (message) => {
      try {
        handler(message);
      } catch {
        // Handlers report their own failures.
      }
    };
    let entry = this.queues.get(queueId);
    if (!entry) {
      const handlers = new Set<Handler>();
      const sub = this.nc.subscribe(this.subject(queueId), {
        callback: (_error, msg) => {
          // Decoded once for every handler here; each copies the body it keeps (Bus.publish).
          const message = decodeHandover(msg.data);
          for (const h of [...handlers]) h(message);
        },
      });
      entry = { sub, handlers };
      this.queues.set(queueId, entry);
    }
    entry.handlers.add(safe);
    const current = entry;
    if (onLive) {
      void this.flush().then(
        () => {
          if (current.handlers.has(safe)) onLive();
        },
        () => {},
      );
    }
    let done = false;
    return () => {
      if (done) return;
      done = true;
      current.handlers.delete(safe);
      if (current.handlers.size === 0 && this.queues.get(queueId) === current) {
        this.queues.delete(queueId);
        if (!this.closed) current.sub.unsubscribe();
      }
    };
  }

  async probe(): Promise<void> {
    if (this.closed || !this.connected || this.nc.isClosed()) throw new Error("not connected to NATS");
  }

  /** Subscribed queues (for /metrics). */
  subscriptionCount(): number {
    return this.queues.size;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.queues.clear();
    await this.nc.close();
  }

  /**
   * One round trip to the server for every publish and subscription of this turn: once it
   * answers, it has them all. Bounded: while NATS is unreachable a publish goes on after the
   * timeout (the message is stored; subscribers read it when the bus reconnects).
   */
  private flush(): Promise<void> {
    this.pendingFlush ??= new Promise<void>((resolve) => {
      setImmediate(() => {
        this.pendingFlush = undefined;
        let timer: NodeJS.Timeout | undefined;
        Promise.race([
          this.nc.flush(),
          new Promise<void>((r) => {
            timer = setTimeout(r, this.flushTimeoutMs);
          }),
        ])
          .catch(() => {})
          .finally(() => {
            clearTimeout(timer);
            resolve();
          });
      });
    });
    return this.pendingFlush;
  }

  private async watch(onStatus: NatsBusOptions["onStatus"]): Promise<void> {
    for await (const s of this.nc.status()) {
      if (s.type === "disconnect") {
        this.connected = false;
        onStatus?.("disconnect");
      } else if (s.type === "reconnect") {
        this.connected = true;
        onStatus?.("reconnect");
        // Publishes while cut off were lost: every subscriber reads the store again.
        for (const entry of [...this.queues.values()]) for (const h of [...entry.handlers]) h();
      }
    }
  }
}
