/**
 * A relay node cut off from the network and healed, for real: the node runs in a Linux network
 * namespace of its own, joined to the host by a veth pair, and reaches PostgreSQL and NATS (which
 * listen on the host's 127.0.0.1) only through that link, by TCP forwarders this test runs on the
 * host end. Clients (core's RelayHttpClient-like sends with failover, core's RelaySocket) are on the
 * host. Cutting the link (`ip link set … down` on the host end) cuts the node off from its clients,
 * from PostgreSQL and from NATS at once, without a single FIN or RST: what a switch failing or a
 * cable pulled looks like. Healing brings the link back up.
 *
 * Checked: every message a sender got a 202 for reaches its application exactly once (the
 * application drops relay-level duplicates by the id inside the message, as Parley's does), the
 * clients that were on the cut node move to the other node by themselves (RelaySocket's ping and
 * failover), and the healed node serves again.
 *
 * Needs root and `ip netns` (Linux), PostgreSQL and NATS. Without them the test is skipped with a
 * line saying why. CI=true makes a missing PostgreSQL or NATS fail the run (as for the other
 * cluster tests); a missing netns fails it only when PARLEY_REQUIRE_NETNS is set too, since CI
 * machines often run unprivileged. Namespaces and veths are removed in `finally`, and ones left by a
 * test process that was killed are removed by the next run (their names carry the creator's pid).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer, type Server, Socket } from "node:net";
import { userInfo } from "node:os";
import { describe, it } from "node:test";
import { SERVER_MAIN, type Spawned, spawnChild, startRelayProcess } from "@parley/testkit";
import pg from "pg";
import { WebSocket } from "ws";
import { RelayHttpClient, RelaySocket, type WebSocketLike } from "../src/index.js";
import { nodeCryptoProvider as crypto } from "../src/node.js";
import { delay, envelope } from "./helpers/relay.js";

const PG_URL =
  process.env.PARLEY_TEST_PG_URL ??
  `postgres://${process.env.PGUSER ?? userInfo().username}@127.0.0.1:5432/test`;
const NATS_URL = process.env.PARLEY_TEST_NATS_URL ?? "nats://127.0.0.1:4222";
const NS_PREFIX = "parley-t";

/** Runs `ip …` with a deadline; throws with its stderr. */
function ip(...args: string[]): string {
  return execFileSync("ip", args, { timeout: 10_000, stdio: ["ignore", "pipe", "pipe"] }).toString();
}

/** Null when network namespaces can be made here (probed by making one), else why not. */
function netnsMissing(): string | null {
  if (process.platform !== "linux") return "network namespaces need Linux";
  if (process.getuid?.() !== 0) return "network namespaces need root (run as root, or skip this test)";
  const probe = `${NS_PREFIX}-${process.pid}-probe`;
  try {
    ip("netns", "add", probe);
    ip("netns", "del", probe);
    return null;
  } catch (e) {
    return `ip netns is not available: ${String((e as { stderr?: Buffer }).stderr ?? e).trim()}`;
  }
}

/** A TCP service answers on host:port within 3 s. */
function reachable(url: string, defaultPort: number): Promise<string | null> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = new Socket();
    const done = (why: string | null) => {
      s.destroy();
      resolve(why);
    };
    s.setTimeout(3000, () => done(`${url} unreachable: timeout`));
    s.once("error", (e) => done(`${url} unreachable: ${e.message}`));
    s.connect(Number(u.port || defaultPort), u.hostname, () => done(null));
  });
}

async function skipReason(): Promise<string | false> {
  const services = [await reachable(PG_URL, 5432), await reachable(NATS_URL, 4222)].filter(
    (r): r is string => r !== null,
  );
  if (services.length > 0) {
    if (process.env.CI === "true")
      throw new Error(`CI=true and a service is missing: ${services.join("; ")}`);
    process.stdout.write(`# skipped: ${services.join("; ")}\n`);
    return services.join("; ");
  }
  const why = netnsMissing();
  if (why === null) return false;
  if (process.env.CI === "true" && process.env.PARLEY_REQUIRE_NETNS) {
    throw new Error(`CI=true, PARLEY_REQUIRE_NETNS is set and ${why}`);
  }
  process.stdout.write(`# skipped: ${why}\n`);
  return why;
}

/** Namespaces left by earlier runs whose process is gone (killed before its `finally`). */
function removeStaleNamespaces(): void {
  for (const line of ip("netns", "list").split("\n")) {
    const m = new RegExp(`^(${NS_PREFIX}-(\\d+)-[0-9a-f]+)`).exec(line);
    if (!m || Number(m[2]) === process.pid) continue;
    try {
      process.kill(Number(m[2]), 0);
    } catch {
      try {
        ip("netns", "del", m[1]!); // its veth end goes with it, and so does the pair
      } catch {}
    }
  }
}

/** A TCP forwarder on `host` (port chosen) to `target`, closed with every connection through it. */
async function forwarder(
  host: string,
  target: URL,
  defaultPort: number,
): Promise<{ port: number; close(): void }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = new Socket();
    upstream.connect(Number(target.port || defaultPort), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("error", () => {});
      s.on("close", () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    port: (server.address() as { port: number }).port,
    close() {
      server.close();
      for (const s of sockets) s.destroy();
    },
  };
}

interface Netns {
  name: string;
  hostVeth: string;
  hostIp: string;
  nsIp: string;
  cut(): void;
  heal(): void;
  remove(): void;
}

function makeNetns(): Netns {
  const hex = randomBytes(3).toString("hex");
  const name = `${NS_PREFIX}-${process.pid}-${hex}`;
  const hostVeth = `pv${hex}h`;
  const nsVeth = `pv${hex}n`;
  // A /30 of its own in 10.200.0.0/13, so runs side by side (other worktrees) do not collide.
  const net = randomBytes(3);
  const base = `10.${200 + (net[0]! % 8)}.${net[1]}.${net[2]! & 0xfc}`;
  const [a, b, c, d] = base.split(".").map(Number) as [number, number, number, number];
  const hostIp = `${a}.${b}.${c}.${d + 1}`;
  const nsIp = `${a}.${b}.${c}.${d + 2}`;
  const remove = () => {
    for (const args of [
      ["link", "del", hostVeth],
      ["netns", "del", name],
    ]) {
      try {
        ip(...args);
      } catch {}
    }
  };
  try {
    ip("netns", "add", name);
    ip("link", "add", hostVeth, "type", "veth", "peer", "name", nsVeth);
    ip("link", "set", nsVeth, "netns", name);
    ip("addr", "add", `${hostIp}/30`, "dev", hostVeth);
    ip("link", "set", hostVeth, "up");
    ip("-n", name, "addr", "add", `${nsIp}/30`, "dev", nsVeth);
    ip("-n", name, "link", "set", nsVeth, "up");
    ip("-n", name, "link", "set", "lo", "up");
  } catch (e) {
    remove();
    throw e;
  }
  return {
    name,
    hostVeth,
    hostIp,
    nsIp,
    cut: () => ip("link", "set", hostVeth, "down"),
    heal: () => ip("link", "set", hostVeth, "up"),
    remove,
  };
}

/** A 512-byte body carrying (sender, n): what the application dedups on. */
function tagged(sender: number, n: number): Uint8Array<ArrayBuffer> {
  const body = new Uint8Array(envelope(512, 0));
  const view = new DataView(body.buffer);
  view.setUint32(8, sender);
  view.setUint32(12, n);
  return body;
}
const tagOf = (b: Uint8Array) => {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return `${v.getUint32(8)}:${v.getUint32(12)}`;
};

/** Sends until a node answers 202, from `first` round the list (each try at most 3 s). */
async function sendWithFailover(
  urls: string[],
  first: number,
  sendId: string,
  body: Uint8Array<ArrayBuffer>,
): Promise<number> {
  const end = Date.now() + 60_000;
  for (let i = first, failures = 0; ; i++) {
    try {
      const res = await fetch(`${urls[i % urls.length]}/v1/send/${sendId}`, {
        method: "POST",
        headers: { "content-type": "application/octet-stream" },
        body,
        signal: AbortSignal.timeout(3000),
      });
      await res.arrayBuffer();
      if (res.status === 202) return failures;
    } catch {}
    failures++;
    if (Date.now() > end) throw new Error("send failed on every node for 60 s");
    await delay(Math.min(500, 20 * failures));
  }
}

const skip = await skipReason();

describe("relay cluster: a node in a network namespace cut off and healed", {
  skip,
  timeout: 240_000,
}, () => {
  it("no message lost or shown twice; its clients move to the other node; the node serves again once healed", async (t) => {
    removeStaleNamespaces();
    const ns = makeNetns();
    const cleanups: (() => unknown)[] = [() => ns.remove()];
    const schema = `t_${randomBytes(6).toString("hex")}`;
    const prefix = `t${randomBytes(6).toString("hex")}`;
    try {
      const pgFwd = await forwarder(ns.hostIp, new URL(PG_URL), 5432);
      const natsFwd = await forwarder(ns.hostIp, new URL(NATS_URL), 4222);
      cleanups.push(
        () => pgFwd.close(),
        () => natsFwd.close(),
      );
      const storeVia = new URL(PG_URL);
      storeVia.host = `${ns.hostIp}:${pgFwd.port}`;
      storeVia.searchParams.set("schema", schema);
      const direct = new URL(PG_URL);
      direct.searchParams.set("schema", schema);

      // The host's node first (it migrates), then the one inside the namespace.
      const hostNode = await startRelayProcess({
        args: ["--store", direct.toString(), "--bus", `${NATS_URL}?prefix=${prefix}`, "--log-level", "warn"],
        startDeadlineMs: 30_000,
      });
      cleanups.push(() => hostNode.stop(5000));
      const inNs: Spawned = spawnChild("ip", [
        "netns",
        "exec",
        ns.name,
        process.execPath,
        SERVER_MAIN,
        "--host",
        ns.nsIp,
        "--port",
        "0",
        "--store",
        storeVia.toString(),
        "--bus",
        `nats://${ns.hostIp}:${natsFwd.port}?prefix=${prefix}`,
        "--log-level",
        "warn",
      ]);
      cleanups.push(() => inNs.stop(5000));
      const nsUrl = (
        await inNs.waitForOutput(/listening on (http:\/\/\S+?)\/? /, 30_000, "relay in netns")
      )[1]!;
      const urls = [nsUrl, hostNode.url];

      // Receivers: three on the namespaced node, one on the host's; each application dedups.
      const RECEIVERS = 4;
      const http = new RelayHttpClient(nsUrl, crypto, undefined, { alternates: [hostNode.url] });
      const queues = await Promise.all(Array.from({ length: RECEIVERS }, () => http.createQueue()));
      const receivers = queues.map((queue, i) => {
        const home = i < 3 ? 0 : 1;
        const r = {
          delivered: [] as string[],
          seen: new Set<string>(),
          duplicates: 0,
          opened: [] as string[],
          socket: undefined as unknown as RelaySocket,
        };
        r.socket = new RelaySocket(urls[home]!, crypto, {
          webSocket: (url) => {
            r.opened.push(new URL(url).host);
            return new WebSocket(url) as unknown as WebSocketLike;
          },
          alternates: [urls[1 - home]!],
          pingIntervalMs: 500,
          maxBackoffMs: 500,
          onMessage: async (_q, _msgId, body) => {
            const tag = tagOf(body);
            if (r.seen.has(tag)) r.duplicates++;
            else {
              r.seen.add(tag);
              r.delivered.push(tag);
            }
          },
        });
        r.socket.start([{ ...queue, relay: urls[home]! }]);
        cleanups.push(() => r.socket.close());
        return r;
      });
      await delay(500);

      // Senders, half starting at each node, until told to stop; each remembers what got a 202.
      const acknowledged: string[] = [];
      let retried = 0;
      let stop = false;
      const SENDERS = 6;
      const senders = Array.from({ length: SENDERS }, async (_, s) => {
        for (let n = 0; !stop; n++) {
          const q = queues[(s + n) % RECEIVERS]!;
          retried += await sendWithFailover(urls, s % 2, q.sendId, tagged(s, n));
          acknowledged.push(`${s}:${n}`);
          await delay(20);
        }
      });
      const waitFor = async (check: () => boolean, what: string, ms: number) => {
        const end = Date.now() + ms;
        while (!check()) {
          if (Date.now() > end) throw new Error(`timed out (${ms} ms) waiting for ${what}`);
          await delay(50);
        }
      };
      const health = async (url: string) => {
        try {
          return (await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) })).status;
        } catch {
          return 0;
        }
      };

      await waitFor(() => acknowledged.length >= 60, "60 messages before the cut", 30_000);
      const before = acknowledged.length;
      ns.cut();
      t.diagnostic(`cut ${ns.hostVeth} after ${before} messages`);
      await delay(5000);
      const duringCut = acknowledged.length - before;
      assert.ok(duringCut > 0, "sends went on through the other node while the link was cut");
      assert.ok(
        receivers.slice(0, 3).every((r) => r.opened.at(-1) === new URL(hostNode.url).host),
        "the cut node's receivers moved to the other node",
      );
      ns.heal();
      const healthyBy = Date.now() + 60_000;
      while ((await health(nsUrl)) !== 200 && Date.now() < healthyBy) await delay(250);
      assert.equal(await health(nsUrl), 200, "the healed node is healthy again");
      const healedAt = acknowledged.length;
      await waitFor(() => acknowledged.length >= healedAt + 40, "40 messages after healing", 60_000);
      stop = true;
      await Promise.all(senders);

      // The healed node takes sends and serves subscribers again.
      const late = await http.createQueue();
      const lateGot: string[] = [];
      const lateSocket = new RelaySocket(nsUrl, crypto, {
        webSocket: (url) => new WebSocket(url) as unknown as WebSocketLike,
        onMessage: async (_q, _m, body) => {
          lateGot.push(tagOf(body));
        },
      });
      cleanups.push(() => lateSocket.close());
      lateSocket.start([late]);
      await delay(300);
      await sendWithFailover(urls, 0, late.sendId, tagged(99, 1));
      await waitFor(() => lateGot.length === 1, "a message through the healed node", 20_000);

      const all = () => receivers.flatMap((r) => r.delivered);
      await waitFor(() => all().length >= acknowledged.length, "every acknowledged message", 60_000);
      const got = new Set(all());
      assert.deepEqual(
        acknowledged.filter((m) => !got.has(m)),
        [],
        "every message acknowledged to its sender was delivered",
      );
      assert.equal(got.size, all().length, "none shown twice");
      t.diagnostic(
        `acknowledged ${acknowledged.length} (${duringCut} during the cut), sends retried on the other node ${retried}, ` +
          `relay-level duplicates dropped by the applications ${receivers.reduce((n, r) => n + r.duplicates, 0)}, ` +
          `receiver connections ${receivers.map((r) => r.opened.length).join("/")}`,
      );
    } finally {
      for (const c of cleanups.reverse()) {
        try {
          await c();
        } catch {}
      }
      const admin = new pg.Client({ connectionString: PG_URL });
      await admin.connect().then(
        () => admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`),
        () => {},
      );
      await admin.end().catch(() => {});
      assert.ok(!ip("netns", "list").includes(ns.name), "the namespace is gone");
    }
  });
});
