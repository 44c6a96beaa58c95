/**
 * Several relay processes on one PostgreSQL and one NATS (@parley/testkit: each its own process
 * group, with a deadline): cross-node delivery, a node killed in a burst, PostgreSQL lost.
 * Every test has a schema and a subject prefix of its own.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { createServer, type Server, Socket } from "node:net";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { type RelayProcess, startRelayProcess } from "@parley/testkit";
import pg from "pg";
import { FailoverReceiver, sendWithFailover, tagged } from "./cluster-client.js";
import { createQueue, delay, newKey, tempDir } from "./helpers.js";
import {
  NATS_URL,
  natsMissing,
  natsPrefix,
  PG_URL,
  pgSchema,
  pgUrlWithSchema,
  postgresMissing,
  skipUnless,
} from "./services.js";

const skip = await skipUnless(postgresMissing, natsMissing);

interface Cluster {
  nodes: RelayProcess[];
  urls: string[];
  storeUrl: string;
  busUrl: string;
}

async function startCluster(t: TestContext, n: number, storeUrl?: string): Promise<Cluster> {
  const store = storeUrl ?? pgUrlWithSchema(pgSchema(t));
  const busUrl = `${NATS_URL}?prefix=${natsPrefix()}`;
  const args = ["--store", store, "--bus", busUrl, "--log-level", "warn"];
  // The first migrates; the others start at once and find nothing to do.
  const nodes = await Promise.all(
    Array.from({ length: n }, () => startRelayProcess({ args, cleanup: t, startDeadlineMs: 30_000 })),
  );
  return { nodes, urls: nodes.map((r) => r.url), storeUrl: store, busUrl };
}

describe("relay cluster (PostgreSQL + NATS, real processes)", { skip, timeout: 180_000 }, () => {
  it("two nodes: a sender on one and a receiver on the other chat in real time, both ways", async (t) => {
    const { urls } = await startCluster(t, 2);
    const alice = await createQueue(urls[0]!);
    const bob = await createQueue(urls[1]!);
    const aliceRx = new FailoverReceiver(urls, 0, alice.key, alice.queueId);
    const bobRx = new FailoverReceiver(urls, 1, bob.key, bob.queueId);
    t.after(() => {
      aliceRx.close();
      bobRx.close();
    });
    await Promise.all([aliceRx.start(), bobRx.start()]);
    for (let i = 0; i < 20; i++) {
      // Alice (on node 1) writes to Bob's queue through node 1; Bob (on node 2) answers through node 2.
      await sendWithFailover(urls, 0, bob.sendId, tagged(1, i));
      await bobRx.reach(i + 1, 5000);
      await sendWithFailover(urls, 1, alice.sendId, tagged(2, i));
      await aliceRx.reach(i + 1, 5000);
    }
    assert.equal(bobRx.delivered.length, 20);
    assert.equal(aliceRx.delivered.length, 20);
    assert.equal(bobRx.duplicates + aliceRx.duplicates, 0, "no node lost: nothing pushed twice");
    // Each message reached the other node with its announcement (NATS carried it) and was pushed
    // from there, without a read of PostgreSQL: all but the first on each queue, which found
    // nothing pushed there before it to follow.
    for (const url of urls) {
      const text = await (await fetch(`${url}/metrics`)).text();
      const handed = Number(/^parley_messages_handed_over_total (\d+)$/m.exec(text)?.[1]);
      assert.ok(handed >= 19, `${url}: ${handed} of 20 pushed as handed over`);
    }
  });

  it("three nodes: a group whose members are on every node gets every message once, in order", async (t) => {
    const { urls } = await startCluster(t, 3);
    const group = await createQueue(urls[0]!, newKey(), { broadcast: true });
    const members = urls.flatMap((_, node) =>
      [0, 1].map(() => new FailoverReceiver(urls, node, group.key, group.queueId, { ack: false })),
    );
    t.after(() => {
      for (const m of members) m.close();
    });
    await Promise.all(members.map((m) => m.start()));
    const sent: string[] = [];
    for (let i = 0; i < 60; i++) {
      await sendWithFailover(urls, i % 3, group.sendId, tagged(i % 3, i));
      sent.push(`${i % 3}:${i}`);
    }
    await Promise.all(members.map((m) => m.reach(sent.length, 10_000)));
    for (const m of members) {
      assert.deepEqual(m.delivered, sent, "every message, in order");
      assert.equal(m.duplicates, 0, "each once");
    }
  });

  it("a node SIGKILLed during a burst of 2,000 messages from several senders: each is delivered to the application exactly once", async (t) => {
    const { urls, nodes } = await startCluster(t, 3);
    const SENDERS = 8;
    const PER_SENDER = 250;
    const RECEIVERS = 4;
    const queues = await Promise.all(Array.from({ length: RECEIVERS }, (_, i) => createQueue(urls[i % 3]!)));
    // Receivers on every node, the killed one (node 0) included.
    const receivers = queues.map((q, i) => new FailoverReceiver(urls, i % 3, q.key, q.queueId));
    t.after(() => {
      for (const r of receivers) r.close();
    });
    await Promise.all(receivers.map((r) => r.start()));

    let sentCount = 0;
    let failures = 0;
    const killAt = 600;
    let killed = false;
    const senders = Array.from({ length: SENDERS }, async (_, s) => {
      for (let n = 0; n < PER_SENDER; n++) {
        const q = queues[(s + n) % RECEIVERS]!;
        const outcome = await sendWithFailover(urls, s % 3, q.sendId, tagged(s, n));
        failures += outcome.failures;
        if (++sentCount === killAt && !killed) {
          killed = true;
          nodes[0]!.kill();
        }
      }
    });
    await Promise.all(senders);
    assert.ok(killed, "the node was killed mid-burst");
    const total = SENDERS * PER_SENDER;
    const expected = (i: number) =>
      Array.from({ length: total }).filter(
        (_, k) => (Math.floor(k / PER_SENDER) + (k % PER_SENDER)) % RECEIVERS === i,
      ).length;
    await Promise.all(receivers.map((r, i) => r.reach(expected(i), 60_000)));
    const all = receivers.flatMap((r) => r.delivered);
    assert.equal(all.length, total, "every message delivered");
    assert.equal(new Set(all).size, total, "each exactly once to the application");
    const onKilled = receivers.filter((_, i) => i % 3 === 0);
    assert.ok(
      onKilled.every((r) => r.reconnects >= 1 && r.nodeIndex !== 0),
      "its receivers moved to another node",
    );
    t.diagnostic(
      `sends retried on another node: ${failures}; pushes dropped as duplicates by the application: ${receivers.reduce((n, r) => n + r.duplicates, 0)}`,
    );
  });

  it("PostgreSQL lost under load: the node reports unhealthy, senders retry, nothing acknowledged is lost", async (t) => {
    // The relay reaches PostgreSQL through a proxy this test can cut and restore (the machine's
    // server is not restarted), and its backends are also terminated with pg_terminate_backend.
    const proxy = await startProxy(new URL(PG_URL));
    t.after(() => proxy.close());
    const schema = pgSchema(t);
    const viaProxy = new URL(pgUrlWithSchema(schema));
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    viaProxy.searchParams.set("application_name", `parley-${schema}`);
    const { urls } = await startCluster(t, 2, viaProxy.toString());
    const health = async (url: string) =>
      (await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5000) })).status;
    assert.deepEqual(await Promise.all(urls.map(health)), [200, 200]);

    const q = await createQueue(urls[0]!);
    const rx = new FailoverReceiver(urls, 1, q.key, q.queueId);
    t.after(() => rx.close());
    await rx.start();

    const acknowledged: number[] = [];
    let stop = false;
    const load = (async () => {
      for (let n = 0; !stop; n++) {
        await sendWithFailover(urls, n % 2, q.sendId, tagged(9, n), 60_000);
        acknowledged.push(n);
      }
    })();
    await delay(500);

    // Every connection of the relay's pool killed on the server side: the pool reconnects.
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    t.after(() => admin.end());
    const terminated = await admin.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
      [`parley-${schema}`],
    );
    assert.ok((terminated.rowCount ?? 0) > 0, "the relay's connections were there to terminate");
    await delay(500);

    // Then PostgreSQL unreachable for a while.
    proxy.cut();
    await delay(300);
    assert.deepEqual(await Promise.all(urls.map(health)), [503, 503], "unhealthy while PostgreSQL is down");
    const metrics = await (await fetch(`${urls[0]}/metrics`)).text();
    assert.match(metrics, /parley_up\{dependency="store"\} 0/);
    // A request meanwhile is refused `503 busy` (clients try again, or another node), not `500`.
    const refused = await fetch(`${urls[0]}/v1/send/${q.sendId}`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: tagged(8, 0),
      signal: AbortSignal.timeout(15_000),
    });
    assert.equal(refused.status, 503);
    assert.equal(((await refused.json()) as { code: string }).code, "busy");
    const duringOutage = acknowledged.length;
    await delay(1500);
    proxy.restore();
    const back = Date.now() + 15_000;
    while ((await Promise.all(urls.map(health))).some((s) => s !== 200) && Date.now() < back)
      await delay(200);
    assert.deepEqual(await Promise.all(urls.map(health)), [200, 200], "healthy again");
    await delay(1000);
    stop = true;
    await load;
    assert.ok(acknowledged.length > duringOutage, "sends went on once PostgreSQL was back");
    await rx.reach(acknowledged.length, 30_000);
    const got = new Set(rx.delivered);
    const lost = acknowledged.filter((n) => !got.has(`9:${n}`));
    assert.deepEqual(lost, [], "every message acknowledged to its sender was delivered");
    t.diagnostic(
      `acknowledged ${acknowledged.length}, delivered ${rx.delivered.length}, duplicates dropped ${rx.duplicates}`,
    );
  });

  it("a node cut off from NATS and healed: unhealthy meanwhile, then every message delivered, none twice", async (t) => {
    // Node 0 reaches NATS through a proxy this test cuts: its subscribers hear nothing from node 1.
    const proxy = await startProxy(new URL(NATS_URL));
    t.after(() => proxy.close());
    const schema = pgSchema(t);
    const prefix = natsPrefix();
    const common = ["--store", pgUrlWithSchema(schema), "--log-level", "warn"];
    const [cut, other] = await Promise.all([
      startRelayProcess({
        args: [...common, "--bus", `nats://127.0.0.1:${proxy.port}?prefix=${prefix}`],
        cleanup: t,
        startDeadlineMs: 30_000,
      }),
      startRelayProcess({
        args: [...common, "--bus", `${NATS_URL}?prefix=${prefix}`],
        cleanup: t,
        startDeadlineMs: 30_000,
      }),
    ]);
    const urls = [cut!.url, other!.url];
    const q = await createQueue(urls[1]!);
    const rx = new FailoverReceiver(urls, 0, q.key, q.queueId);
    t.after(() => rx.close());
    await rx.start();
    await sendWithFailover(urls, 1, q.sendId, tagged(5, 0));
    await rx.reach(1, 10_000);

    proxy.cut();
    const health = async (url: string) =>
      (await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5000) })).status;
    const down = Date.now() + 10_000;
    while ((await health(urls[0]!)) !== 503 && Date.now() < down) await delay(100);
    assert.equal(await health(urls[0]!), 503, "the cut-off node reports its bus down");
    assert.equal(await health(urls[1]!), 200);
    for (let n = 1; n <= 20; n++) await sendWithFailover(urls, 1, q.sendId, tagged(5, n));
    proxy.restore();
    await rx.reach(21, 20_000);
    assert.equal(await health(urls[0]!), 200, "healthy once healed");
    assert.deepEqual(
      rx.delivered,
      Array.from({ length: 21 }, (_, n) => `5:${n}`),
      "every message, in order",
    );
    assert.equal(rx.duplicates, 0, "none pushed twice");
  });

  it("serves /metrics in Prometheus text without per-queue labels; nodes configured by environment and by file", async (t) => {
    const schema = pgSchema(t);
    const busUrl = `${NATS_URL}?prefix=${natsPrefix()}`;
    const configFile = join(tempDir(t), "relay.json");
    writeFileSync(
      configFile,
      JSON.stringify({ store: pgUrlWithSchema(schema), bus: busUrl, "log-level": "warn" }),
    );
    const [byEnv, byFile] = await Promise.all([
      startRelayProcess({
        env: {
          ...process.env,
          PARLEY_STORE: pgUrlWithSchema(schema),
          PARLEY_BUS: busUrl,
          PARLEY_LOG_LEVEL: "warn",
        },
        cleanup: t,
        startDeadlineMs: 30_000,
      }),
      startRelayProcess({ args: ["--config", configFile], cleanup: t, startDeadlineMs: 30_000 }),
    ]);
    const urls = [byEnv.url, byFile.url];
    assert.match(byEnv.stdout(), /data: postgres:/, "the environment's store, not --data");
    const q = await createQueue(urls[0]!);
    await sendWithFailover(urls, 1, q.sendId, tagged(1, 1));
    for (const url of urls) {
      const res = await fetch(`${url}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /text\/plain/);
      const text = await res.text();
      assert.match(text, /^# TYPE parley_messages_stored_total counter$/m);
      assert.match(text, /^parley_pg_pool_connections \d+$/m);
      assert.ok(!text.includes(q.queueId) && !text.includes(q.sendId), "no queue ids");
      for (const line of text.split("\n").filter((l) => l.startsWith("parley_"))) {
        assert.match(
          line,
          /^parley_[a-z_]+(\{(route|status|dependency)="[^"]*"(,(route|status|dependency)="[^"]*")*\})? [0-9.e+-]+$/,
          line,
        );
      }
    }
    // Cross-node through nodes configured each way.
    const rx = new FailoverReceiver(urls, 1, q.key, q.queueId);
    t.after(() => rx.close());
    await rx.start();
    await rx.reach(1, 10_000);
  });
});

/** A TCP proxy (to PostgreSQL or NATS) that can be cut (every connection dropped, new ones refused) and restored. */
async function startProxy(
  target: URL,
): Promise<{ port: number; cut(): void; restore(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let server: Server;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve) => {
      server = createServer((client) => {
        const upstream = new Socket();
        upstream.connect(Number(target.port || (target.protocol === "nats:" ? 4222 : 5432)), target.hostname);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on("error", () => {});
          s.on("close", () => sockets.delete(s));
        }
        client.pipe(upstream).pipe(client);
        client.on("close", () => upstream.destroy());
        upstream.on("close", () => client.destroy());
      });
      server.listen(port, "127.0.0.1", () => {
        port = (server.address() as { port: number }).port;
        resolve();
      });
    });
  await listen();
  return {
    port,
    cut() {
      server.close();
      for (const s of sockets) s.destroy();
    },
    restore() {
      void listen();
    },
    async close() {
      server.close();
      for (const s of sockets) s.destroy();
    },
  };
}
