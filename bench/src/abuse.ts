/**
 * The relay under abuse (security finding 8): a real relay process (the bin, loopback only, a
 * fresh one per scenario with its data in a temporary directory) while one attacker — a process of its own,
 * at a lower scheduling priority (see runScenario) — runs the worst abuse of one kind at a time:
 *   (a) queue creation flood (relay without and with --pow-bits 16),
 *   (b) filling its own queue with small (512 B) and with large (8 MiB) messages,
 *   (c) invite flood of 64 KiB invites (without and with --pow-bits 16),
 *   (d) a 20,000-message backlog (two queues at the 10,000 cap) subscribed without acks, re-subscribed
 *       every 500 ms,
 *   (e) 12 concurrent fetches of 8 MiB messages, over and over,
 *   (f) 500 slow connections trickling request bodies.
 * Meanwhile a normal client (this process) does send → push → ack round trips on its own queue,
 * one at a time. Recorded per scenario: the normal client's round-trip p50/p99/max, the relay's
 * peak RSS (VmRSS from /proc), and what the attacker achieved before being refused.
 *
 * Bounded: each scenario runs BENCH_ABUSE_SECONDS (8) after its setup, every wait has a deadline,
 * every relay and attacker is killed at the end. Everything shares the machine's two cores: the
 * numbers include that contention, softened by priorities (runScenario).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { getPriority, setPriority, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  INVITE_MAX_BYTES,
  pad,
  type QueueCredentials,
  type RelayError,
  RelayHttpClient,
  signRecipientCommand,
  unb64,
} from "@parley/core";
import { nodeCryptoProvider as crypto } from "@parley/core/node";
import { spawnChild, startRelayProcess } from "@parley/testkit";
import WebSocket from "ws";
import { parseFrame } from "./frames.js";
import { relayLoopDelay } from "./relay-metrics.js";
import { median, percentile, round, writeResults } from "./report.js";

const SECONDS = Number(process.env.BENCH_ABUSE_SECONDS ?? 8);
const DEADLINE_MS = Number(process.env.BENCH_DEADLINE_MS ?? 600_000);
const MIB = 1024 * 1024;

type Scenario =
  | "quiet"
  | "queue-flood"
  | "queue-flood-pow16"
  | "fill-small"
  | "fill-large"
  | "invite-flood"
  | "invite-flood-pow16"
  | "backlog-no-acks"
  | "big-fetches"
  | "slow-bodies";

const SCENARIOS: { name: Scenario; args: string[] }[] = [
  { name: "quiet", args: [] },
  { name: "queue-flood", args: [] },
  { name: "queue-flood-pow16", args: ["--pow-bits", "16"] },
  { name: "fill-small", args: [] },
  { name: "fill-large", args: [] },
  { name: "invite-flood", args: [] },
  { name: "invite-flood-pow16", args: ["--pow-bits", "16"] },
  { name: "backlog-no-acks", args: [] },
  { name: "big-fetches", args: [] },
  { name: "slow-bodies", args: [] },
];

function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Counts outcomes by code: "ok" or the relay's refusal code. */
class Tally {
  readonly counts: Record<string, number> = {};
  bytes = 0;
  firstRefusal: { code: string; after: number; atMs: number } | undefined;
  private readonly start = performance.now();
  ok(bytes = 0) {
    this.counts["ok"] = (this.counts["ok"] ?? 0) + 1;
    this.bytes += bytes;
  }
  refused(code: string) {
    this.counts[code] = (this.counts[code] ?? 0) + 1;
    this.firstRefusal ??= {
      code,
      after: this.counts["ok"] ?? 0,
      atMs: round(performance.now() - this.start, 0),
    };
  }
  summary() {
    return { counts: this.counts, acceptedMiB: round(this.bytes / MIB, 1), firstRefusal: this.firstRefusal };
  }
}

async function post(url: string, body: Uint8Array | string, json = false) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": json ? "application/json" : "application/octet-stream" },
    body: body as Uint8Array<ArrayBuffer> | string,
  });
  const text = await res.text();
  return { status: res.status, body: text };
}

const codeOf = (text: string): string => {
  try {
    return (JSON.parse(text) as { code?: string }).code ?? "?";
  } catch {
    return "?";
  }
};

/** Runs `worker` `concurrency` times side by side until `until()` says stop. */
async function flood(concurrency: number, until: () => boolean, worker: () => Promise<void>) {
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (!until()) await worker();
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// The attacker (its own process)

async function attack(url: string, scenario: Scenario, ready: () => void): Promise<unknown> {
  const client = new RelayHttpClient(url, crypto);
  const tally = new Tally();
  let end = Number.POSITIVE_INFINITY;
  const start = () => {
    end = performance.now() + SECONDS * 1000;
    ready();
  };
  const over = () => performance.now() > end;
  switch (scenario) {
    case "quiet":
      start();
      await sleep(SECONDS * 1000);
      return {};
    case "queue-flood":
    case "queue-flood-pow16": {
      start();
      await flood(8, over, async () => {
        try {
          await client.createQueue();
          tally.ok();
        } catch (e) {
          tally.refused((e as RelayError).code ?? "error");
        }
      });
      return { ...tally.summary(), queuesPerSecond: round((tally.counts["ok"] ?? 0) / SECONDS, 0) };
    }
    case "fill-small":
    case "fill-large": {
      // The worst of this kind: when a queue reaches its quota (queue_full) the attacker opens
      // another and goes on, so the relay receives bodies for the whole scenario, not only until
      // the first queue is full; a refusal of any other kind (the disk watermark) ends it.
      const size = scenario === "fill-small" ? 512 : 8 * MIB;
      let q = await client.createQueue();
      let queues = 1;
      let opening: Promise<void> | null = null;
      const body = pad(new Uint8Array(size - 64));
      start();
      let refusedInARow = 0;
      await flood(
        scenario === "fill-small" ? 16 : 4,
        () => over() || refusedInARow > 50,
        async () => {
          const sendId = q.sendId;
          const r = await post(`${url}/v1/send/${sendId}`, body);
          if (r.status === 202) {
            tally.ok(body.length);
            refusedInARow = 0;
            return;
          }
          const code = codeOf(r.body);
          tally.refused(code);
          if (code !== "queue_full") {
            refusedInARow++;
            return;
          }
          if (q.sendId === sendId && !opening)
            opening = client.createQueue().then(
              (next) => {
                q = next;
                queues++;
                opening = null;
              },
              () => {
                refusedInARow++;
                opening = null;
              },
            );
          await opening;
        },
      );
      return { ...tally.summary(), queues, MiBPerSecond: round(tally.bytes / MIB / SECONDS, 1) };
    }
    case "invite-flood":
    case "invite-flood-pow16": {
      start();
      let n = 0;
      await flood(8, over, async () => {
        try {
          // A fresh blob each time (a stamp binds its blob, and is accepted once).
          const blob = new Uint8Array(INVITE_MAX_BYTES).fill(7);
          new DataView(blob.buffer).setUint32(0, n++);
          await client.createInvite(blob);
          tally.ok(blob.length);
        } catch (e) {
          tally.refused((e as RelayError).code ?? "error");
        }
      });
      return { ...tally.summary(), MiBPerSecond: round(tally.bytes / MIB / SECONDS, 1) };
    }
    case "backlog-no-acks": {
      const queues = [await client.createQueue(), await client.createQueue()];
      const body = pad(new Uint8Array(100));
      for (const q of queues) {
        let n = 0;
        await flood(
          32,
          () => n >= 10_000,
          async () => {
            n++;
            const r = await post(`${url}/v1/send/${q.sendId}`, body);
            if (r.status === 202) tally.ok(body.length);
            else tally.refused(codeOf(r.body));
          },
        );
      }
      const ws = await openSocket(url);
      let pushed = 0;
      ws.on("message", (d, isBinary) => {
        if (parseFrame(d, isBinary).type === "msg") pushed++;
      });
      start();
      let id = 1;
      while (!over()) {
        for (const q of queues) ws.send(JSON.stringify({ ...(await sign(q, "sub")), id: id++ }));
        await sleep(500);
      }
      ws.close();
      return { backlog: tally.summary(), pushedToAttacker: pushed, subs: id - 1 };
    }
    case "big-fetches": {
      const q = await client.createQueue();
      const body = pad(new Uint8Array(8 * MIB - 64));
      for (let i = 0; i < 24; i++) await client.send(q.sendId, body);
      start();
      let fetched = 0;
      await flood(12, over, async () => {
        const res = await fetch(`${url}/v1/queues/command`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(await sign(q, "fetch")),
        });
        const bytes = (await res.arrayBuffer()).byteLength;
        if (res.status === 200) {
          fetched++;
          tally.ok(bytes);
        } else tally.refused(`http_${res.status}`);
      });
      return {
        ...tally.summary(),
        fetches: fetched,
        replyMiBPerSecond: round(tally.bytes / MIB / SECONDS, 0),
      };
    }
    case "slow-bodies": {
      const q = await client.createQueue();
      const { hostname, port } = new URL(url);
      const sockets: import("node:net").Socket[] = [];
      let closedByRelay = 0;
      for (let i = 0; i < 500; i++) {
        const s = connect(Number(port), hostname);
        s.on("error", () => {});
        s.on("close", () => closedByRelay++);
        s.write(
          `POST /v1/send/${q.sendId} HTTP/1.1\r\nHost: relay\r\nContent-Type: application/octet-stream\r\n` +
            "Content-Length: 8388608\r\n\r\n",
        );
        sockets.push(s);
      }
      start();
      const trickle = setInterval(() => {
        for (const s of sockets) if (!s.destroyed) s.write("x");
      }, 200);
      await sleep(SECONDS * 1000);
      clearInterval(trickle);
      const open = sockets.filter((s) => !s.destroyed).length;
      for (const s of sockets) s.destroy();
      return { connections: sockets.length, stillOpenAtEnd: open, closedByRelay };
    }
  }
}

async function sign(q: QueueCredentials, cmd: "sub" | "fetch" | "ack", msgId?: string) {
  return signRecipientCommand(crypto, unb64(q.recipientSecretKey), cmd, q.queueId, msgId);
}

async function openSocket(url: string): Promise<WebSocket> {
  const ws = new WebSocket(`${url.replace(/^http/, "ws")}/v1/ws`);
  await within(
    10_000,
    "websocket open",
    new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    }),
  );
  return ws;
}

// ---------------------------------------------------------------------------------------------
// The relay process and the normal client (main thread)

interface Relay {
  url: string;
  pid: number;
  rssMiB(): number;
  stop(): Promise<void>;
}

/** A relay in its own process group (@parley/testkit), SIGKILLed if it does not stop within 20 s. */
async function startRelay(args: string[]): Promise<Relay> {
  const dir = mkdtempSync(join(tmpdir(), "parley-abuse-"));
  const relay = await startRelayProcess({
    dataDir: dir,
    // BENCH_RELAY_NODE_ARGS: e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to see where the relay's time
    // goes; BENCH_RELAY_ARGS: relay flags for every scenario (e.g. "--reply-budget-bytes 16777216").
    nodeArgs: process.env.BENCH_RELAY_NODE_ARGS?.split(" ").filter(Boolean) ?? [],
    args: [
      "--host",
      "127.0.0.1",
      "--log-level",
      "warn",
      ...args,
      ...(process.env.BENCH_RELAY_ARGS?.split(" ").filter(Boolean) ?? []),
    ],
    stderr: "inherit",
    startDeadlineMs: 20_000,
  });
  return {
    url: relay.url,
    pid: relay.pid,
    rssMiB() {
      try {
        const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${relay.pid}/status`, "utf8"));
        return m ? Number(m[1]) / 1024 : 0;
      } catch {
        return 0;
      }
    },
    async stop() {
      await relay.stop(20_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Send → push → ack round trips, one at a time, until `stop()`; returns the latencies in ms. */
async function normalClient(url: string, stop: () => boolean): Promise<{ ms: number[]; failed: number }> {
  const client = new RelayHttpClient(url, crypto);
  const queue = await client.createQueue();
  const ws = await openSocket(url);
  const waiting = new Map<string, () => void>();
  const early = new Set<string>();
  ws.on("message", (d, isBinary) => {
    const f = parseFrame(d, isBinary);
    if (f.type !== "msg") return;
    void sign(queue, "ack", f.msgId).then((c) => ws.send(JSON.stringify({ ...c, id: 0 })));
    const w = waiting.get(f.msgId!);
    if (w) w();
    else early.add(f.msgId!);
  });
  ws.send(JSON.stringify({ ...(await sign(queue, "sub")), id: 1 }));
  const body = pad(new Uint8Array(100));
  const ms: number[] = [];
  let failed = 0;
  while (!stop()) {
    const t0 = performance.now();
    try {
      const msgId = await within(10_000, "send", client.send(queue.sendId, body));
      const sent = performance.now();
      if (!early.delete(msgId)) {
        await within(10_000, "push", new Promise<void>((resolve) => waiting.set(msgId, resolve)));
        waiting.delete(msgId);
      }
      ms.push(performance.now() - t0);
      if (process.env.BENCH_ABUSE_DEBUG && performance.now() - t0 > 40)
        console.log(`slow: send ${round(sent - t0, 1)} ms, push ${round(performance.now() - sent, 1)} ms`);
    } catch {
      failed++;
    }
    await sleep(20);
  }
  ws.close();
  return { ms, failed };
}

/**
 * The attacker in a process of its own (this file with `--attacker URL SCENARIO`), in its own
 * process group with a deadline. Its scheduling priority is lowered (BENCH_ATTACKER_NICE, default
 * 10): a real attacker's CPU — building and reading 8 MiB bodies — is on the attacker's machine, not
 * on the relay's; at equal priority on this 2-core machine it took one core from the relay and the
 * normal client, which is not a cost the relay imposes. It still uses every cycle they leave idle,
 * and the relay's own work for it (receiving, storing, encoding, sending) is all in the figures.
 */
const ATTACKER_NICE = Number(process.env.BENCH_ATTACKER_NICE ?? 10);
/** The relay and the normal client, raised above the machine's other work when allowed (root). */
const MEASURED_NICE = Number(process.env.BENCH_MEASURED_NICE ?? -5);

function renice(pid: number, nice: number): number | null {
  try {
    setPriority(pid, nice);
  } catch {
    return null; // not allowed (an unprivileged user cannot raise priority): keep what it has
  }
  // With the kernel's autogroups on (most desktops and VMs), nice orders processes only within one
  // session, and the relay and the attacker each lead a session of their own (own process group):
  // their niceness would not count between them. The autogroup's own nice does.
  try {
    writeFileSync(`/proc/${pid}/autogroup`, String(nice));
  } catch {
    // no autogroups here (or not allowed): the process's nice is all there is
  }
  return getPriority(pid);
}

async function runScenario(name: Scenario, args: string[]) {
  const relay = await startRelay(args);
  const attackerProcess = spawnChild(
    process.execPath,
    [fileURLToPath(import.meta.url), "--attacker", relay.url, name],
    { stderr: "inherit", deadlineMs: DEADLINE_MS },
  );
  try {
    const niceRelay = renice(relay.pid, MEASURED_NICE);
    const niceClient = renice(process.pid, MEASURED_NICE);
    const niceAttacker = renice(attackerProcess.pid, ATTACKER_NICE);
    await sleep(300);
    const rssBefore = relay.rssMiB();
    let rssMax = rssBefore;
    const sampler = setInterval(() => {
      rssMax = Math.max(rssMax, relay.rssMiB());
    }, 100);
    await attackerProcess.waitForOutput(/^ready$/m, DEADLINE_MS, `${name}: setup`);
    await relayLoopDelay(relay.url); // starts the relay's loop-delay window (each read resets it)
    let attacking = true;
    const normal = normalClient(relay.url, () => !attacking);
    const done = await attackerProcess.waitForOutput(/^result (.*)$/m, DEADLINE_MS, `${name}: attack`);
    attacking = false;
    const attacker = JSON.parse(done[1]!) as unknown;
    const { ms, failed } = await within(30_000, `${name}: normal client`, normal);
    clearInterval(sampler);
    const rssEnd = relay.rssMiB();
    const loop = await relayLoopDelay(relay.url);
    return {
      scenario: name,
      relayArgs: args.join(" ") || "(defaults)",
      roundTrips: ms.length,
      failed,
      p50Ms: ms.length ? round(median(ms), 1) : null,
      p99Ms: ms.length ? round(percentile(ms, 99), 1) : null,
      maxMs: ms.length ? round(Math.max(...ms), 1) : null,
      rssBeforeMiB: round(rssBefore, 0),
      rssPeakMiB: round(rssMax, 0),
      rssEndMiB: round(rssEnd, 0),
      relayLoopP99Ms: loop.p99Ms,
      relayLoopMaxMs: loop.maxMs,
      nice: `relay ${niceRelay ?? "-"}, client ${niceClient ?? "-"}, attacker ${niceAttacker ?? "-"}`,
      attacker,
    };
  } finally {
    await attackerProcess.stop(5000);
    await relay.stop();
  }
}

if (process.argv[2] === "--attacker") {
  const [url, scenario] = process.argv.slice(3) as [string, Scenario];
  const result = await attack(url, scenario, () => console.log("ready"));
  console.log(`result ${JSON.stringify(result)}`);
  process.exit(0);
} else {
  const only = process.env.BENCH_ABUSE_ONLY?.split(",");
  const rows: Record<string, unknown>[] = [];
  for (const s of SCENARIOS) {
    if (only && !only.includes(s.name)) continue;
    console.log(`scenario ${s.name} …`);
    rows.push(await runScenario(s.name, s.args));
  }
  const table = rows.map((r) => ({ ...r, attacker: JSON.stringify(r["attacker"]) }));
  writeResults("abuse", table, {
    seconds: SECONDS,
    note:
      "shared 2-core machine; relay = the bin in a child process on loopback; attacker = a process of its own at " +
      `nice ${ATTACKER_NICE} (its CPU stands for the attacker's machine); relay and normal client at nice ` +
      `${MEASURED_NICE} where allowed (the machine is shared with other work); ` +
      "latency = send → push of one 512 B message, one at a time, 20 ms apart",
  });
}
