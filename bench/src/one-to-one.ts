/**
 * 1:1 chat through a real relay on loopback, clients on their SQLite stores as the CLI uses them.
 * - throughput: messages/second from Alice's send to Bob's decrypted delivery (listen), pipelined:
 *   each send returns once the message is stored in the outbox (`wait: false`, as an app shows
 *   "Sending…"), and the outbox hands what queued up meanwhile to the relay in batches;
 * - latency: one message at a time, send → decrypted at Bob; median and p95;
 * - relay memory per open WebSocket connection with a subscribed queue (relay in its own process).
 * Baselines on the same machine in the same run: the relay transport alone (deposit → WebSocket
 * delivery of the same padded size, no MLS, no client store), and a bare `ws` server's memory.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type ClientEvent,
  ParleyClient,
  pad,
  RelayHttpClient,
  Rfc9420Engine,
  signRecipientCommand,
  unb64,
  type WebSocketLike,
} from "@parley/core";
import { nodeCryptoProvider } from "@parley/core/node";
import { FileLock, SqliteKeyValueStore } from "@parley/node";
import { spawnChild, startRelayProcess } from "@parley/testkit";
import WebSocket from "ws";
import { parseFrame } from "./frames.js";
import { median, percentile, round, writeResults } from "./report.js";

const crypto = nodeCryptoProvider;
const THROUGHPUT_MESSAGES = Number(process.env.BENCH_MESSAGES ?? 300);
const LATENCY_SAMPLES = Number(process.env.BENCH_LATENCY ?? 100);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 500);

const temp = (name: string) => mkdtempSync(join(tmpdir(), `parley-bench-${name}-`));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The relay in its own process group (@parley/testkit), its warnings on this stderr. */
const startRelay = () =>
  startRelayProcess({ dataDir: temp("relay"), args: ["--log-level", "warn"], stderr: "inherit" });

const rssBytes = (pid: number) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m![1]) * 1024;
};

function client(name: string) {
  const dir = temp(name);
  return new ParleyClient({
    store: new SqliteKeyValueStore(join(dir, "parley.sqlite")),
    crypto,
    engine: new Rfc9420Engine(crypto),
    lock: new FileLock(join(dir, "parley.lock")),
    outboxLock: new FileLock(join(dir, "parley.outbox.lock")),
    webSocket: (url) => new WebSocket(url) as unknown as WebSocketLike,
  });
}

async function chatBench(url: string) {
  const alice = client("alice");
  const bob = client("bob");
  await alice.init("Alice", url);
  await bob.init("Bob", url);
  await alice.acceptInvite((await bob.createInvite()).link);
  await bob.sync();

  const arrivals = new Map<string, (t: number) => void>();
  const stop = new AbortController();
  const listening = bob.listen((e: ClientEvent) => {
    if (e.type === "message") arrivals.get(e.message.text)?.(performance.now());
  }, stop.signal);
  await sleep(300);
  const expect = (text: string) => new Promise<number>((r) => arrivals.set(text, r));

  // Latency: one at a time.
  const latencies: number[] = [];
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const text = `latency ${i}`;
    const arrived = expect(text);
    const t0 = performance.now();
    await alice.send("Bob", text);
    latencies.push((await arrived) - t0);
  }
  // Throughput: Alice sends back to back (each stored before the next), her outbox delivers in the
  // background; Bob's listener decrypts as they come.
  const all = Array.from({ length: THROUGHPUT_MESSAGES }, (_, i) => expect(`bulk ${i}`));
  const t0 = performance.now();
  for (let i = 0; i < THROUGHPUT_MESSAGES; i++) await alice.send("Bob", `bulk ${i}`, { wait: false });
  const last = Math.max(...(await Promise.all(all)));
  const seconds = (last - t0) / 1000;
  await alice.settleOutbox();
  stop.abort();
  await listening;
  return { latencies, perSecond: THROUGHPUT_MESSAGES / seconds };
}

/** The relay alone: deposit a padded blob over HTTP, receive it on a subscribed WebSocket, ack. */
async function transportBench(url: string) {
  const relay = new RelayHttpClient(url, crypto);
  const queue = await relay.createQueue();
  const ws = new WebSocket(`${url.replace("http", "ws")}/v1/ws`);
  await new Promise((r) => ws.once("open", r));
  let waiting: ((t: number) => void) | undefined;
  let id = 1;
  ws.on("message", async (data, isBinary) => {
    const f = parseFrame(data, isBinary);
    if (f.type !== "msg") return;
    waiting?.(performance.now());
    const ack = await signRecipientCommand(
      crypto,
      unb64(queue.recipientSecretKey),
      "ack",
      queue.queueId,
      f.msgId,
    );
    ws.send(JSON.stringify({ ...ack, id: id++ }));
  });
  ws.send(
    JSON.stringify({
      ...(await signRecipientCommand(crypto, unb64(queue.recipientSecretKey), "sub", queue.queueId)),
      id: id++,
    }),
  );
  await sleep(100);
  const body = pad(crypto.randomBytes(200));
  const latencies: number[] = [];
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const arrived = new Promise<number>((r) => (waiting = r));
    const t0 = performance.now();
    await relay.send(queue.sendId, body);
    latencies.push((await arrived) - t0);
  }
  let count = 0;
  const done = new Promise<number>((r) => {
    waiting = (t) => {
      if (++count === THROUGHPUT_MESSAGES) r(t);
    };
  });
  const t0 = performance.now();
  for (let i = 0; i < THROUGHPUT_MESSAGES; i++) await relay.send(queue.sendId, body);
  const seconds = ((await done) - t0) / 1000;
  ws.close();
  return { latencies, perSecond: THROUGHPUT_MESSAGES / seconds };
}

async function openConnections(url: string, n: number, subscribe: boolean): Promise<WebSocket[]> {
  const relay = subscribe ? new RelayHttpClient(url, crypto) : undefined;
  const sockets: WebSocket[] = [];
  for (let i = 0; i < n; i++) {
    const ws = new WebSocket(url.startsWith("ws") ? url : `${url.replace("http", "ws")}/v1/ws`);
    await new Promise((r) => ws.once("open", r));
    if (subscribe) {
      const q = await relay!.createQueue();
      const sub = await signRecipientCommand(crypto, unb64(q.recipientSecretKey), "sub", q.queueId);
      ws.send(JSON.stringify({ ...sub, id: 1 }));
    }
    sockets.push(ws);
  }
  await sleep(500);
  return sockets;
}

async function memoryPerConnection(url: string, pid: number) {
  await sleep(500);
  const before = rssBytes(pid);
  const sockets = await openConnections(url, CONNECTIONS, true);
  const after = rssBytes(pid);
  for (const s of sockets) s.close();
  return (after - before) / CONNECTIONS;
}

/** Baseline: a bare `ws` server in its own process, same number of idle connections. */
async function bareWsMemoryPerConnection() {
  const code = `import { WebSocketServer } from "ws";
    const s = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    s.on("listening", () => console.log("port " + s.address().port));`;
  const server = spawnChild(process.execPath, ["--input-type=module", "-e", code], {
    cwd: fileURLToPath(new URL("../../", import.meta.url)),
    stderr: "inherit",
  });
  try {
    const port = Number((await server.waitForOutput(/^port (\d+)$/m, 15_000, "bare ws server"))[1]);
    await sleep(300);
    const before = rssBytes(server.pid);
    const sockets = await openConnections(`ws://127.0.0.1:${port}`, CONNECTIONS, false);
    const after = rssBytes(server.pid);
    for (const s of sockets) s.close();
    return (after - before) / CONNECTIONS;
  } finally {
    await server.stop();
  }
}

const relay = await startRelay();
const { url, child } = relay;
try {
  const transport = await transportBench(url);
  const chat = await chatBench(url);
  const relayPerConn = await memoryPerConnection(url, child.pid!);
  const bareWsPerConn = await bareWsMemoryPerConnection();
  const rows = [
    {
      measure: "messages/second (send → decrypted delivery)",
      parley: round(chat.perSecond, 1),
      baseline: round(transport.perSecond, 1),
      "parley/baseline": round(chat.perSecond / transport.perSecond, 3),
    },
    {
      measure: "median latency ms",
      parley: round(median(chat.latencies)),
      baseline: round(median(transport.latencies)),
      "parley/baseline": round(median(chat.latencies) / median(transport.latencies), 2),
    },
    {
      measure: "p95 latency ms",
      parley: round(percentile(chat.latencies, 95)),
      baseline: round(percentile(transport.latencies, 95)),
      "parley/baseline": round(percentile(chat.latencies, 95) / percentile(transport.latencies, 95), 2),
    },
    {
      measure: "relay memory per open connection (KiB)",
      parley: round(relayPerConn / 1024, 1),
      baseline: round(bareWsPerConn / 1024, 1),
      "parley/baseline": round(relayPerConn / bareWsPerConn, 2),
    },
  ];
  writeResults("one-to-one", rows, {
    baseline: "relay transport alone (no MLS, no client store) / a bare ws server",
    messages: THROUGHPUT_MESSAGES,
    latencySamples: LATENCY_SAMPLES,
    connections: CONNECTIONS,
  });
} finally {
  await relay.stop();
}
