/**
 * Test clients for a cluster of relay nodes: a sender that sends each message until one node
 * answers 202 (trying the next node after a failure), and a receiver that keeps a WebSocket
 * subscription on one node, acknowledges what it gets, and moves to the next node when its
 * connection is lost. Like the real client, the receiving application sees each message once: the
 * relay delivers at least once (a message pushed and not yet acknowledged when a node died is
 * pushed again), and the application drops what it has already seen by the id in the message.
 */
import { WebSocket } from "ws";
import { delay, envelope, pushView, signCommand, type TestKey } from "./helpers.js";

/** A 512-byte body carrying (sender, n): what the application dedups on. */
export function tagged(sender: number, n: number): Uint8Array {
  const body = envelope(512, 0);
  const view = new DataView(body.buffer);
  view.setUint32(8, sender);
  view.setUint32(12, n);
  return body;
}

export const tagOf = (body: Uint8Array): string => {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  return `${view.getUint32(8)}:${view.getUint32(12)}`;
};

export interface SendOutcome {
  /** Nodes' answers other than 202 and network failures, before the one that took it. */
  failures: number;
}

/** Sends until some node answers 202, starting at `first` and going round the list; gives up after `deadlineMs`. */
export async function sendWithFailover(
  nodes: readonly string[],
  first: number,
  sendId: string,
  body: Uint8Array,
  deadlineMs = 30_000,
): Promise<SendOutcome> {
  const end = Date.now() + deadlineMs;
  let failures = 0;
  for (let i = first; ; i++) {
    const url = nodes[i % nodes.length]!;
    try {
      const res = await fetch(`${url}/v1/send/${sendId}`, {
        method: "POST",
        headers: { "content-type": "application/octet-stream" },
        body,
        signal: AbortSignal.timeout(5000),
      });
      await res.arrayBuffer();
      if (res.status === 202) return { failures };
    } catch {
      // the node is gone or did not answer: the next one
    }
    failures++;
    if (Date.now() > end) throw new Error(`send failed on every node for ${deadlineMs} ms`);
    await delay(Math.min(500, 20 * failures));
  }
}

export class FailoverReceiver {
  /** What the application got, each once, in arrival order. */
  readonly delivered: string[] = [];
  private readonly seen = new Set<string>();
  /** Pushes of a message already delivered (redelivery after a node was lost). */
  duplicates = 0;
  reconnects = 0;
  private socket: WebSocket | undefined;
  private stopped = false;
  private nextId = 1;
  private waiters: { n: number; resolve: () => void }[] = [];

  constructor(
    private readonly nodes: readonly string[],
    private node: number,
    private readonly key: TestKey,
    private readonly queueId: string,
    private readonly options: { ack: boolean } = { ack: true },
  ) {}

  /** Connects and subscribes; resolves once the subscription is confirmed. */
  async start(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.connect();
        return;
      } catch {
        this.node++;
        await delay(100);
      }
    }
  }

  get nodeIndex(): number {
    return this.node % this.nodes.length;
  }

  private connect(): Promise<void> {
    const url = `${this.nodes[this.node % this.nodes.length]!.replace(/^http/, "ws")}/v1/ws`;
    const socket = new WebSocket(url);
    this.socket = socket;
    return new Promise<void>((resolve, reject) => {
      const subId = this.nextId++;
      let subscribed = false;
      socket.once("open", () =>
        socket.send(JSON.stringify({ ...signCommand(this.key, "sub", this.queueId), id: subId })),
      );
      socket.on("message", (data, isBinary) => {
        const frame = isBinary
          ? pushView(data as Buffer)
          : (JSON.parse(data.toString()) as Record<string, unknown>);
        if (frame["id"] === subId && frame["type"] === "ok") {
          subscribed = true;
          resolve();
        } else if (frame["type"] === "msg") {
          this.onMessage(socket, frame["msgId"] as string, Buffer.from(frame["body"] as string, "base64url"));
        }
      });
      socket.once("error", () => {});
      socket.once("close", () => {
        if (!subscribed) return reject(new Error("closed before subscribing"));
        if (this.stopped) return;
        // The node is gone: the next one.
        this.reconnects++;
        this.node++;
        void this.start();
      });
    });
  }

  private onMessage(socket: WebSocket, msgId: string, body: Buffer): void {
    const tag = tagOf(body);
    if (this.seen.has(tag)) this.duplicates++;
    else {
      this.seen.add(tag);
      this.delivered.push(tag);
      for (const w of this.waiters.filter((w) => this.delivered.length >= w.n)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve();
      }
    }
    if (this.options.ack && socket.readyState === WebSocket.OPEN) {
      socket.send(
        JSON.stringify({ ...signCommand(this.key, "ack", this.queueId, { msgId }), id: this.nextId++ }),
      );
    }
  }

  /** Resolves once the application has `n` messages; rejects after `ms`. */
  async reach(n: number, ms: number): Promise<void> {
    if (this.delivered.length >= n) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => this.waiters.push({ n, resolve })),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${this.delivered.length} of ${n} messages within ${ms} ms`)),
          ms,
        );
      }),
    ]).finally(() => clearTimeout(timer));
  }

  close(): void {
    this.stopped = true;
    this.socket?.terminate();
  }
}
