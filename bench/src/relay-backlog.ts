/**
 * The relay under a large unicast backlog (one process: relay on an in-memory SQLite store, clients
 * on loopback; the backlog goes straight into the store, so only delivery is measured):
 *  - drain: a subscriber that acknowledges as it goes (at most 32 acks awaiting their reply, as the
 *    relay refuses more than 64 queued commands per connection) is pushed a backlog of
 *    BENCH_BACKLOG (20,000) messages: time from `sub` to the last message, and messages/second;
 *  - latency: one ordinary client sends to its own subscribed queue, one message at a time, and
 *    the time to the relay's 202 and to the push is measured (median, p99, max) — once on a quiet
 *    relay, once right after a subscriber that never acknowledges has subscribed to a queue holding
 *    BENCH_BACKLOG messages. Whatever that subscriber costs the relay shows up here, since relay
 *    and clients share one event loop.
 */
import { pad, type QueueCredentials, RelayHttpClient, signRecipientCommand, unb64 } from "@parley/core";
import { nodeCryptoProvider } from "@parley/core/node";
import { SqliteStore, startRelay } from "@parley/server";
import WebSocket from "ws";
import { type Frame, parseFrame } from "./frames.js";
import { median, percentile, round, writeResults } from "./report.js";

const crypto = nodeCryptoProvider;
const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 20_000);
const SAMPLES = Number(process.env.BENCH_LATENCY ?? 300);
/** Nothing here should take this long; a stuck run fails instead of hanging. */
const DEADLINE_MS = Number(process.env.BENCH_DEADLINE_MS ?? 300_000);
const DAY = 86_400_000;

/** A WebSocket client on one queue: subscribes, hands pushed message ids to `onMessage`. */
async function connect(url: string, queue: QueueCredentials) {
  const ws = new WebSocket(`${url.replace(/^http/, "ws")}/v1/ws`);
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  let nextId = 1;
  const replies = new Map<number, (f: Frame) => void>();
  let onMessage: (msgId: string) => void = () => {};
  ws.on("message", (data, isBinary) => {
    const f = parseFrame(data, isBinary);
    if (f.type === "msg") onMessage(f.msgId!);
    else if (typeof f.id === "number") replies.get(f.id)?.(f);
  });
  const command = async (cmd: "sub" | "ack", msgId?: string): Promise<Frame> => {
    const id = nextId++;
    const signed = await signRecipientCommand(
      crypto,
      unb64(queue.recipientSecretKey),
      cmd,
      queue.queueId,
      msgId,
    );
    const reply = new Promise<Frame>((resolve) => replies.set(id, resolve));
    ws.send(JSON.stringify({ ...signed, id }));
    const f = await reply;
    replies.delete(id);
    if (f.type !== "ok" && f.code !== "unknown_message") throw new Error(`${cmd}: ${f.code}`);
    return f;
  };
  return {
    command,
    set onMessage(fn: (msgId: string) => void) {
      onMessage = fn;
    },
    close: () => ws.close(),
  };
}

function withDeadline<T>(what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${DEADLINE_MS} ms`)), DEADLINE_MS);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

async function fill(store: SqliteStore, sendId: string, count: number) {
  const body = pad(crypto.randomBytes(200));
  const expiresAt = Date.now() + DAY;
  for (let i = 0; i < count; i++) await store.enqueue(sendId, body, expiresAt);
}

/** Subscribes and acknowledges every message pushed (≤ 32 acks awaiting a reply): ms to the last. */
async function drain(url: string, queue: QueueCredentials, count: number): Promise<number> {
  const client = await connect(url, queue);
  let received = 0;
  let inFlight: Promise<unknown>[] = [];
  let chain = Promise.resolve();
  const done = new Promise<number>((resolve, reject) => {
    client.onMessage = (msgId) => {
      received++;
      const last = received === count ? performance.now() : undefined;
      chain = chain.then(async () => {
        inFlight.push(client.command("ack", msgId));
        if (inFlight.length >= 32) {
          await Promise.all(inFlight);
          inFlight = [];
        }
        if (last !== undefined) resolve(last);
      }, reject);
    };
  });
  const t0 = performance.now();
  await client.command("sub");
  const ms = (await withDeadline("drain", done)) - t0;
  await chain;
  await Promise.all(inFlight);
  client.close();
  return ms;
}

/** One message at a time to a subscribed queue: ms to the 202, and to the push. */
async function latency(url: string, http: RelayHttpClient, queue: QueueCredentials) {
  const client = await connect(url, queue);
  let arrived: ((msgId: string) => void) | undefined;
  client.onMessage = (msgId) => {
    arrived?.(msgId);
    client.command("ack", msgId).catch(() => {});
  };
  await client.command("sub");
  const body = pad(crypto.randomBytes(200));
  const sendMs: number[] = [];
  const deliverMs: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const pushed = new Promise<string>((r) => {
      arrived = r;
    });
    const t0 = performance.now();
    await http.send(queue.sendId, body);
    sendMs.push(performance.now() - t0);
    await withDeadline("push", pushed);
    deliverMs.push(performance.now() - t0);
  }
  client.close();
  const stats = (v: number[]) => ({
    median: round(median(v)),
    p99: round(percentile(v, 99)),
    max: round(Math.max(...v)),
  });
  return { send: stats(sendMs), deliver: stats(deliverMs) };
}

async function main() {
  const store = SqliteStore.open(":memory:");
  const relay = await startRelay({ port: 0, store });
  const http = new RelayHttpClient(relay.url, crypto);
  const rows: Record<string, unknown>[] = [];
  try {
    const acking = await http.createQueue();
    await fill(store, acking.sendId, BACKLOG);
    const drainMs = await drain(relay.url, acking, BACKLOG);
    rows.push({
      scenario: `drain ${BACKLOG} (subscriber acks)`,
      ms: round(drainMs),
      perSecond: round(BACKLOG / (drainMs / 1000), 0),
    });

    const quiet = await latency(relay.url, http, await http.createQueue());
    rows.push({ scenario: "send, quiet relay", ...flat(quiet) });

    const sitterQueue = await http.createQueue();
    await fill(store, sitterQueue.sendId, BACKLOG);
    const sitter = await connect(relay.url, sitterQueue);
    let pushedToSitter = 0;
    sitter.onMessage = () => {
      pushedToSitter++;
    };
    await sitter.command("sub");
    const busy = await latency(relay.url, http, await http.createQueue());
    rows.push({
      scenario: `send, non-acking subscriber on ${BACKLOG}`,
      ...flat(busy),
      pushedToSitter,
    });
    sitter.close();
  } finally {
    await relay.close();
    await store.close();
  }
  writeResults("relay-backlog", rows, { backlog: BACKLOG, samples: SAMPLES });
}

const flat = (r: Awaited<ReturnType<typeof latency>>) => ({
  sendMedianMs: r.send.median,
  sendP99Ms: r.send.p99,
  sendMaxMs: r.send.max,
  deliverMedianMs: r.deliver.median,
  deliverP99Ms: r.deliver.p99,
  deliverMaxMs: r.deliver.max,
});

await main();
