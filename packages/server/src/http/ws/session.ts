import type { Socket } from "node:net";
import { ClientFrame, ErrorCodes, PingFrame, type ServerFrame, SessionAckFrame } from "@parley/protocol";
import type { FastifyBaseLogger } from "fastify";
import type { RawData, WebSocket } from "ws";
import { badRequest, describeIssues, Problem } from "../../problem.js";
import { ByteBudget, type Lease } from "../../relay/byte-budget.js";
import type { RelayContext } from "../../relay/context.js";
import * as ops from "../../relay/operations.js";
import type { StoredMessage } from "../../store/store.js";
import { msgFrame } from "../encode.js";
import { fromStorage } from "../errors.js";
import { safeError } from "../logging.js";
import { Subscription } from "./subscription.js";

/** A command frame is a few hundred bytes; anything much larger is refused (but not fatal). */
export const MAX_FRAME_BYTES = 4 * 1024;
/** ws itself drops the connection above this; between the two limits a frame gets an `err`. */
export const HARD_MAX_FRAME_BYTES = 64 * 1024;
const MAX_SUBSCRIPTIONS = 1000;
/** Commands waiting to be handled on one socket; more are refused instead of piling up in memory. */
const MAX_QUEUED_FRAMES = 64;
const OPEN = 1;

const rawLength = (data: RawData): number =>
  Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : (data as Buffer | ArrayBuffer).byteLength;

const rawText = (data: RawData): string =>
  Array.isArray(data) ? Buffer.concat(data).toString("utf8") : Buffer.from(data as Buffer).toString("utf8");

/** A refused frame: why, and the frame's `id` if one could be read (else null). */
interface RefusedFrame {
  problem: Problem;
  id: number | null;
}

/** The `id` of a frame that is JSON but not a valid command, when it is a usable one. */
function readableId(json: unknown): number | null {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return null;
  const id = (json as { id?: unknown }).id;
  return ClientFrame.shape.id.safeParse(id).success ? (id as number) : null;
}

/** A client frame, or why it is refused (answered with `err`, echoing the id if it can be read). */
function parseFrame(
  data: RawData,
  isBinary: boolean,
): ClientFrame | SessionAckFrame | PingFrame | RefusedFrame {
  const refuse = (message: string, id: number | null = null) => ({ problem: badRequest(message), id });
  if (isBinary) return refuse("binary frames are not accepted: send JSON text frames");
  if (rawLength(data) > MAX_FRAME_BYTES) return refuse(`frame is larger than ${MAX_FRAME_BYTES} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(rawText(data));
  } catch {
    return refuse("frame is not valid JSON");
  }
  if (typeof json === "object" && json !== null && (json as { cmd?: unknown }).cmd === "ping") {
    const ping = PingFrame.safeParse(json);
    return ping.success ? ping.data : refuse(describeIssues("frame", ping.error.issues), readableId(json));
  }
  if (
    typeof json === "object" &&
    json !== null &&
    (json as { cmd?: unknown }).cmd === "ack" &&
    !Object.hasOwn(json, "sig")
  ) {
    // Unsigned: a session ack (see SessionAckFrame), allowed only for a queue subscribed here.
    const ack = SessionAckFrame.safeParse(json);
    return ack.success ? ack.data : refuse(describeIssues("frame", ack.error.issues), readableId(json));
  }
  const parsed = ClientFrame.safeParse(json);
  return parsed.success
    ? parsed.data
    : refuse(describeIssues("frame", parsed.error.issues), readableId(json));
}

/**
 * One WebSocket connection. Frames are handled one after another, in order; pushes of subscribed
 * queues run alongside. Nothing a client sends can end the relay, and nothing short of a frame over
 * the hard size limit ends the connection: every other failure becomes an `err` frame.
 */
export class SocketSession {
  private readonly subscriptions = new Map<string, Subscription>();
  private chain: Promise<void> = Promise.resolve();
  private queued = 0;
  private closed = false;
  /** The TCP socket is corked until the next tick (corkForThisTurn). */
  private corked = false;
  private alive = true;
  private lastTouch = 0;
  /**
   * Message bytes this connection's pushes may hold at once (its subscriptions push side by side),
   * on top of the relay-wide `replies`; leases are taken here first, then there.
   */
  private readonly budget: ByteBudget;
  /** Aborted on close: pushes waiting for budget give up. */
  private readonly closing = new AbortController();
  /** Token bucket of commands (wsCommandRate per second, up to wsCommandBurst at once). */
  private tokens: number;
  private refilledAt: number;

  constructor(
    private readonly socket: WebSocket,
    private readonly ctx: RelayContext,
    private readonly log: FastifyBaseLogger,
    private readonly replies: ByteBudget,
  ) {
    this.budget = new ByteBudget(ops.fetchReserveBytes(ctx));
    this.lastTouch = ctx.now();
    this.tokens = ctx.config.wsCommandBurst;
    this.refilledAt = this.lastTouch;
    socket.on("message", (data, isBinary) => {
      try {
        this.onFrame(data, isBinary);
      } catch (e) {
        this.fail(null, e);
      }
    });
    socket.on("pong", () => {
      this.alive = true;
    });
    socket.on("close", () => this.close());
  }

  get subscriptionCount(): number {
    return this.subscriptions.size;
  }

  /**
   * Called periodically: drops a connection that did not answer the last ping (a vanished client
   * or a silently dead NAT mapping), and keeps long-subscribed queues from expiring as idle.
   */
  heartbeat(): void {
    if (this.closed) return;
    if (!this.alive) {
      this.socket.terminate();
      return;
    }
    this.alive = false;
    this.socket.ping();
    const now = this.ctx.now();
    if (now - this.lastTouch >= this.ctx.config.timeGranularityMs) {
      this.lastTouch = now;
      const until = this.ctx.retention.queueIdleUntil(now);
      for (const queueId of this.subscriptions.keys()) {
        this.ctx.store.touchQueue(queueId, until).catch((e) => this.logError(e));
      }
    }
  }

  /** Drops the connection without a close handshake (shutdown, after its grace period). */
  terminate(): void {
    this.close();
    this.socket.terminate();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.closing.abort(new Error("connection closed"));
    for (const sub of this.subscriptions.values()) sub.stop();
    this.subscriptions.clear();
  }

  /**
   * Takes one command's token; false when the connection has used its rate (then the frame is
   * answered `busy` and not handled). Every frame counts, valid or not. Needs no client identity.
   */
  private takeToken(): boolean {
    const now = this.ctx.now();
    const { wsCommandRate, wsCommandBurst } = this.ctx.config;
    if (now > this.refilledAt) {
      this.tokens = Math.min(wsCommandBurst, this.tokens + ((now - this.refilledAt) / 1000) * wsCommandRate);
      this.refilledAt = now;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private onFrame(data: RawData, isBinary: boolean): void {
    if (this.closed) return;
    const allowed = this.takeToken();
    const frame = parseFrame(data, isBinary);
    if (!allowed) {
      this.sendErr(frame.id, new Problem(ErrorCodes.busy, "too many commands on this connection; slow down"));
      return;
    }
    if ("problem" in frame) {
      this.sendErr(frame.id, frame.problem);
      return;
    }
    if (frame.cmd === "ping") {
      // Answered at once, not behind the commands in flight: it asks whether the link is alive.
      this.send({ type: "ok", id: frame.id });
      return;
    }
    if (this.queued >= MAX_QUEUED_FRAMES) {
      this.sendErr(frame.id, badRequest("too many commands in flight on this connection; wait for replies"));
      return;
    }
    this.queued++;
    this.chain = this.chain
      .then(() => this.handle(frame))
      .catch((e) => this.fail(frame.id, e))
      .finally(() => {
        this.queued--;
      });
  }

  private async handle(frame: ClientFrame | SessionAckFrame): Promise<void> {
    if (this.closed) return;
    const { queueId } = frame;
    if (!("sig" in frame)) {
      const sub = this.subscriptions.get(queueId);
      await ops.authorizeSessionAck(this.ctx, queueId, sub && { broadcast: sub.isBroadcast });
      await this.acknowledge(frame.id, queueId, frame.msgIds);
      return;
    }
    if (
      frame.cmd === "sub" &&
      !this.subscriptions.has(queueId) &&
      this.subscriptions.size >= MAX_SUBSCRIPTIONS
    ) {
      throw badRequest(`at most ${MAX_SUBSCRIPTIONS} subscriptions per connection`);
    }
    const queue = await ops.authorizeCommand(this.ctx, frame);
    switch (frame.cmd) {
      case "sub": {
        // A repeated sub starts over: everything unacknowledged (unicast, from the beginning of
        // the queue, under a fresh cap), or everything after the new cursor (broadcast), is pushed
        // again.
        this.subscriptions.get(queueId)?.stop();
        const { afterSeq, cursorFound } = await ops.resolveCursor(this.ctx, queueId, frame.msgId);
        const sub = new Subscription(
          queueId,
          this.ctx,
          (q, m) => this.push(q, m),
          (e) => this.logError(e),
          { broadcast: queue.broadcast, afterSeq },
        );
        this.subscriptions.set(queueId, sub);
        this.sendOk(frame.id, cursorFound);
        if (!this.closed) sub.start();
        return;
      }
      case "fetch": {
        // Leased before reading the store (like an HTTP fetch), trimmed to what was read, and given
        // back as the messages are written.
        const leases = await this.lease(ops.fetchReserveBytes(this.ctx), this.ctx.config.replyWaitMs);
        if (!leases) return;
        try {
          const { messages, cursorFound } = await ops.fetchPending(this.ctx, queueId, frame.msgId);
          let left = ops.bodyBytes(messages);
          for (const l of leases) l.shrink(left);
          for (const m of messages) {
            await this.write(queueId, m);
            left -= m.body.length;
            for (const l of leases) l.shrink(left);
          }
          this.sendOk(frame.id, cursorFound);
        } finally {
          for (const l of leases) l.release();
        }
        return;
      }
      case "ack": {
        if (frame.msgIds !== undefined) {
          await this.acknowledge(frame.id, queueId, frame.msgIds);
          return;
        }
        try {
          await ops.ack(this.ctx, { ...frame, msgId: frame.msgId! });
        } finally {
          // Even when the message was already gone (acknowledged elsewhere, or expired): it no
          // longer waits for an ack, so it must not hold a place under the subscription's cap.
          this.subscriptions.get(queueId)?.acknowledged(frame.msgId!);
        }
        this.send({ type: "ok", id: frame.id });
        return;
      }
      case "del": {
        await ops.deleteQueue(this.ctx, queueId);
        this.subscriptions.get(queueId)?.stop();
        this.subscriptions.delete(queueId);
        this.send({ type: "ok", id: frame.id });
        return;
      }
    }
  }

  /** A batched ack, signed or by the session: `ok`, naming the ids the queue did not hold. */
  private async acknowledge(id: number, queueId: string, msgIds: readonly string[]): Promise<void> {
    let unknown: string[];
    try {
      ({ unknown } = await ops.ackBatch(this.ctx, queueId, msgIds));
    } finally {
      // Acknowledged or already gone: none of them waits for an ack any more (see the single ack).
      const sub = this.subscriptions.get(queueId);
      for (const msgId of msgIds) sub?.acknowledged(msgId);
    }
    this.send(unknown.length > 0 ? { type: "ok", id, unknown } : { type: "ok", id });
  }

  /**
   * Leases `bytes` from this connection's budget, then the relay's. Undefined if the connection
   * closed meanwhile; a `busy` Problem if `waitMs` passed first.
   */
  private async lease(bytes: number, waitMs?: number): Promise<Lease[] | undefined> {
    const options = { signal: this.closing.signal, waitMs };
    let own: Lease | undefined;
    try {
      own = await this.budget.acquire(bytes, options);
      return [own, await this.replies.acquire(bytes, options)];
    } catch (e) {
      own?.release();
      if (this.closing.signal.aborted) return undefined;
      throw e;
    }
  }

  /**
   * A subscription's push: waits (for as long as the connection lasts) for room to write it, and
   * returns once the frame is handed to the socket. Its bytes stay leased until the socket has
   * written them, so the budgets still bound what waits in memory, and a subscription reads on
   * while they go: the frames of one read leave in one write to the network (`corkForThisTurn`).
   * (Waiting for each frame to be written before the next made a write per message: a tenth of
   * the relay's time in a 1:1 conversation's burst, bench one-to-one.)
   */
  private async push(queueId: string, message: StoredMessage): Promise<void> {
    const leases = await this.lease(message.body.length);
    if (!leases) return;
    const release = () => {
      for (const l of leases) l.release();
    };
    if (this.closed || this.socket.readyState !== OPEN) return release();
    this.corkForThisTurn();
    // The callback fires once ws has written the frame (or failed to: the socket is closing).
    this.socket.send(msgFrame(queueId, message), { binary: true }, release);
    this.ctx.metrics?.pushed.inc();
  }

  /** A fetch's message: resolves once the socket has written it (the fetch's lease shrinks then). */
  private async write(queueId: string, message: StoredMessage): Promise<void> {
    if (this.closed || this.socket.readyState !== OPEN) return;
    const frame = msgFrame(queueId, message);
    return new Promise((resolve) => {
      if (this.closed || this.socket.readyState !== OPEN) return resolve();
      // A send error means the socket is closing.
      this.socket.send(frame, { binary: true }, () => resolve());
      this.ctx.metrics?.pushed.inc();
    });
  }

  /**
   * Holds the connection's writes until the current run of callbacks and promise continuations is
   * over, then writes them together (a subscription's read pushes its messages in one such run).
   */
  private corkForThisTurn(): void {
    const raw = (this.socket as unknown as { _socket?: Socket })._socket;
    if (this.corked || !raw) return;
    this.corked = true;
    raw.cork();
    process.nextTick(() => {
      this.corked = false;
      raw.uncork();
    });
  }

  private sendOk(id: number, cursorFound: boolean | undefined): void {
    this.send(cursorFound === undefined ? { type: "ok", id } : { type: "ok", id, cursorFound });
  }

  private send(frame: ServerFrame): void {
    if (this.closed || this.socket.readyState !== OPEN) return;
    // With the pushes of this turn: an ack's `ok` comes at the commit that also stored the messages
    // sent with it, whose pushes go out in the same turn (one write to the network, not two).
    this.corkForThisTurn();
    this.socket.send(JSON.stringify(frame));
  }

  private sendErr(id: number | null, problem: Problem): void {
    this.send({ type: "err", id, code: problem.code, error: problem.message });
  }

  private fail(id: number | null, error: unknown): void {
    if (error instanceof Problem) {
      this.sendErr(id, error);
      return;
    }
    const refused = fromStorage(error);
    if (refused) {
      this.log.warn({ route: "/v1/ws", err: safeError(error) }, "store refused a command");
      this.sendErr(id, refused);
      return;
    }
    this.logError(error);
    this.sendErr(id, new Problem(ErrorCodes.internal, "internal error"));
  }

  private logError(error: unknown): void {
    this.log.error({ route: "/v1/ws", err: safeError(error) }, "websocket error");
  }
}
