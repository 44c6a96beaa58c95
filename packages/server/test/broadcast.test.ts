/**
 * Broadcast queues (a group's one queue, read by every member with the same key) over real HTTP and
 * WebSocket: one stored copy per message, fan-out to every subscriber, cursors, no acks.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { rendezvousIds, ServerFrame } from "@parley/protocol";
import Database from "better-sqlite3";
import type { FastifyBaseLogger } from "fastify";
import { MemoryBlobStore } from "../src/blobs/memory-blob-store.js";
import { disclosureJson, formatDisclosure } from "../src/cli/disclose.js";
import { Subscription } from "../src/http/ws/subscription.js";
import { DATABASE_FILE, LocalBus, resolveConfig, SqliteStore } from "../src/index.js";
import type { RelayContext } from "../src/relay/context.js";
import { PowGate } from "../src/relay/pow-gate.js";
import { StorageGuard } from "../src/relay/storage-guard.js";
import { Retention } from "../src/retention.js";
import {
  byId,
  command,
  createQueue,
  delay,
  envelope,
  isMsg,
  newKey,
  openSocket,
  postBytes,
  postJson,
  signCommand,
  signCreate,
  startTestRelay,
  stored,
  tempDir,
} from "./helpers.js";

const send = async (url: string, sendId: string, fill: number) => {
  const res = await postBytes(`${url}/v1/send/${sendId}`, envelope(512, fill));
  assert.equal(res.status, 202);
  return res.json["msgId"] as string;
};

type Socket = Awaited<ReturnType<typeof openSocket>>;

/** Takes the next `n` msg frames of one queue, in the order they arrived. */
async function takeMessages(ws: Socket, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push((await ws.next(isMsg))["msgId"] as string);
  return out;
}

describe("broadcast queues", () => {
  it("are created with a signature that binds the mode", async (t) => {
    const relay = await startTestRelay(t);
    const key = newKey();

    const created = await postJson(`${relay.url}/v1/queues`, signCreate(key, { broadcast: true }));
    assert.equal(created.status, 201);
    assert.equal(created.json["broadcast"], true);
    const queue = await relay.store.getQueue(created.json["queueId"] as string);
    assert.equal(queue!.broadcast, true);

    const unicast = await postJson(`${relay.url}/v1/queues`, signCreate(newKey()));
    assert.equal(unicast.status, 201);
    assert.equal("broadcast" in unicast.json, false, "unicast replies are unchanged");

    // Signed as unicast, sent with broadcast: true (or the reverse): the signature does not cover it.
    const signedUnicast = signCreate(newKey());
    const upgraded = await postJson(`${relay.url}/v1/queues`, { ...signedUnicast, broadcast: true });
    assert.deepEqual([upgraded.status, upgraded.json["code"]], [401, "bad_signature"]);
    const { broadcast: _dropped, ...downgraded } = signCreate(newKey(), { broadcast: true });
    const down = await postJson(`${relay.url}/v1/queues`, downgraded);
    assert.deepEqual([down.status, down.json["code"]], [401, "bad_signature"]);
    // broadcast: false is the unicast mode, signed as such.
    const explicit = await postJson(`${relay.url}/v1/queues`, signCreate(newKey(), { broadcast: false }));
    assert.equal(explicit.status, 201);
    assert.equal(explicit.json["broadcast"], undefined);
    const notBool = await postJson(`${relay.url}/v1/queues`, { ...signCreate(newKey()), broadcast: "yes" });
    assert.deepEqual([notBool.status, notBool.json["code"]], [400, "bad_request"]);

    // Creation nonces are kept per recipient key: the same request cannot be played again.
    const request = signCreate(newKey(), { broadcast: true });
    assert.equal((await postJson(`${relay.url}/v1/queues`, request)).status, 201);
    const replayed = await postJson(`${relay.url}/v1/queues`, request);
    assert.deepEqual([replayed.status, replayed.json["code"]], [409, "replay"]);
  });

  it("push every message once, in order, to every subscriber, and refuse acks", async (t) => {
    const relay = await startTestRelay(t);
    const { key, queueId, sendId } = await createQueue(relay.url, newKey(), { broadcast: true });
    const a = await openSocket(relay.url);
    const b = await openSocket(relay.url);
    t.after(() => Promise.all([a.close(), b.close()]));
    a.send({ ...signCommand(key, "sub", queueId), id: 1 });
    b.send({ ...signCommand(key, "sub", queueId), id: 1 });
    assert.deepEqual(await a.next(byId(1)), { type: "ok", id: 1 }, "no cursor, no cursorFound");
    assert.deepEqual(await b.next(byId(1)), { type: "ok", id: 1 });

    const sent = [];
    for (let i = 1; i <= 5; i++) sent.push(await send(relay.url, sendId, i));
    assert.deepEqual(await takeMessages(a, 5), sent);
    assert.deepEqual(await takeMessages(b, 5), sent);

    // Acks are refused, on the socket and over HTTP; the message stays for everyone.
    a.send({ ...signCommand(key, "ack", queueId, { msgId: sent[0]! }), id: 2 });
    const refused = await a.next(byId(2));
    assert.deepEqual(
      [refused["type"], refused["code"], refused["error"]],
      ["err", "bad_request", "broadcast queues are not acknowledged"],
    );
    const httpAck = await command(relay.url, signCommand(key, "ack", queueId, { msgId: sent[0]! }));
    assert.deepEqual([httpAck.status, httpAck.json["code"]], [400, "bad_request"]);
    const fetched = await command(relay.url, signCommand(key, "fetch", queueId));
    assert.deepEqual(
      (fetched.json["messages"] as { msgId: string }[]).map((m) => m.msgId),
      sent,
    );
    assert.equal("cursorFound" in fetched.json, false);

    // A third subscriber joining late gets the backlog, then live messages, like the others.
    const c = await openSocket(relay.url);
    t.after(() => c.close());
    c.send({ ...signCommand(key, "sub", queueId), id: 1 });
    await c.next(byId(1));
    assert.deepEqual(await takeMessages(c, 5), sent);
    const live = await send(relay.url, sendId, 6);
    for (const ws of [a, b, c]) assert.equal((await ws.next(isMsg))["msgId"], live);

    await delay(100);
    for (const ws of [a, b, c]) assert.deepEqual(ws.unclaimed(), [], "nothing pushed twice");
  });

  it("resume after a cursor: a reconnecting subscriber gets only what it missed", async (t) => {
    const relay = await startTestRelay(t);
    const { key, queueId, sendId } = await createQueue(relay.url, newKey(), { broadcast: true });
    const first = await openSocket(relay.url);
    first.send({ ...signCommand(key, "sub", queueId), id: 1 });
    await first.next(byId(1));
    const seen = [await send(relay.url, sendId, 1), await send(relay.url, sendId, 2)];
    assert.deepEqual(await takeMessages(first, 2), seen);
    await first.close();

    const missed = [await send(relay.url, sendId, 3), await send(relay.url, sendId, 4)];
    const again = await openSocket(relay.url);
    t.after(() => again.close());
    again.send({ ...signCommand(key, "sub", queueId, { msgId: seen[1]! }), id: 2 });
    assert.deepEqual(await again.next(byId(2)), { type: "ok", id: 2, cursorFound: true });
    assert.deepEqual(await takeMessages(again, 2), missed);
    const live = await send(relay.url, sendId, 5);
    assert.equal((await again.next(isMsg))["msgId"], live);
    await delay(50);
    assert.deepEqual(again.unclaimed(), []);

    // A cursor the relay does not hold (expired): everything held, and the reply says so.
    const lost = await openSocket(relay.url);
    t.after(() => lost.close());
    lost.send({ ...signCommand(key, "sub", queueId, { msgId: "AAAAAAAAAAAAAAAAAAAAAA" }), id: 3 });
    const ok = await lost.next(byId(3));
    assert.deepEqual(ok, { type: "ok", id: 3, cursorFound: false });
    assert.ok(ServerFrame.safeParse(ok).success);
    assert.deepEqual(await takeMessages(lost, 5), [...seen, ...missed, live]);

    // Re-subscribing on the same socket moves that subscription to the new cursor.
    again.send({ ...signCommand(key, "sub", queueId, { msgId: missed[1]! }), id: 4 });
    assert.deepEqual(await again.next(byId(4)), { type: "ok", id: 4, cursorFound: true });
    assert.equal((await again.next(isMsg))["msgId"], live);

    // fetch takes the same cursor, over HTTP and on the socket.
    const after = await command(relay.url, signCommand(key, "fetch", queueId, { msgId: seen[0]! }));
    assert.equal(after.status, 200);
    assert.equal(after.json["cursorFound"], true);
    assert.deepEqual(
      (after.json["messages"] as { msgId: string }[]).map((m) => m.msgId),
      [seen[1], ...missed, live],
    );
    const unknown = await command(
      relay.url,
      signCommand(key, "fetch", queueId, { msgId: "AAAAAAAAAAAAAAAAAAAAAA" }),
    );
    assert.equal(unknown.json["cursorFound"], false);
    assert.equal((unknown.json["messages"] as unknown[]).length, 5);
    const wsFetch = await openSocket(relay.url);
    t.after(() => wsFetch.close());
    wsFetch.send({ ...signCommand(key, "fetch", queueId, { msgId: missed[0]! }), id: 9 });
    assert.deepEqual(await takeMessages(wsFetch, 2), [missed[1], live]);
    assert.deepEqual(await wsFetch.next(byId(9)), { type: "ok", id: 9, cursorFound: true });
  });

  it("pages a long queue with the cursor, 100 messages per fetch", async (t) => {
    const relay = await startTestRelay(t);
    const { key, queueId, sendId } = await createQueue(relay.url, newKey(), { broadcast: true });
    const sent: string[] = [];
    for (let i = 0; i < 130; i++) sent.push(await send(relay.url, sendId, i % 250));
    const got: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const res = await command(
        relay.url,
        signCommand(key, "fetch", queueId, cursor === undefined ? {} : { msgId: cursor }),
      );
      const batch = (res.json["messages"] as { msgId: string }[]).map((m) => m.msgId);
      assert.ok(batch.length <= 100);
      if (batch.length === 0) break;
      got.push(...batch);
      cursor = batch.at(-1);
    }
    assert.deepEqual(got, sent);
  });

  it("keep one stored copy per message, whatever the number of readers", async (t) => {
    const dataDir = tempDir(t);
    const relay = await startTestRelay(t, { dataDir });
    const { key, queueId, sendId } = await createQueue(relay.url, newKey(), { broadcast: true });
    const readers = await Promise.all([1, 2, 3, 4, 5, 6].map(() => openSocket(relay.url)));
    t.after(() => Promise.all(readers.map((r) => r.close())));
    for (const r of readers) {
      r.send({ ...signCommand(key, "sub", queueId), id: 1 });
      await r.next(byId(1));
    }
    const sent = [await send(relay.url, sendId, 1), await send(relay.url, sendId, 2)];
    for (const r of readers) assert.deepEqual(await takeMessages(r, 2), sent);
    for (let i = 0; i < 3; i++) await command(relay.url, signCommand(key, "fetch", queueId));

    const db = new Database(join(dataDir, DATABASE_FILE), { readonly: true });
    t.after(() => db.close());
    const count = (sql: string, ...args: unknown[]) => (db.prepare(sql).get(...args) as { n: number }).n;
    assert.equal(count("SELECT COUNT(*) AS n FROM messages WHERE queue_id = ?", queueId), 2);
    assert.equal(count("SELECT COUNT(*) AS n FROM messages"), 2);
    assert.equal(count("SELECT COUNT(*) AS n FROM queues"), 1, "one queue, not one per reader");
    assert.deepEqual(
      db.prepare("SELECT broadcast FROM queues").all(),
      [{ broadcast: 1 }],
      "and one flag; nothing per reader",
    );
  });

  it("are shown as broadcast by disclose", async (t) => {
    const relay = await startTestRelay(t);
    const group = await createQueue(relay.url, newKey(), { broadcast: true });
    const msgId = await send(relay.url, group.sendId, 1);
    const d = await relay.store.disclose(group.queueId);
    const text = formatDisclosure(group.queueId, d);
    assert.match(text, /mode\s+broadcast/);
    assert.match(text, /held messages: 1/);
    assert.match(text, new RegExp(msgId));
    const json = disclosureJson(group.queueId, d);
    assert.equal(json.queues[0]!.mode, "broadcast");
    assert.equal(typeof json.queues[0]!.messages[0]!.seq, "number");
    const direct = await createQueue(relay.url);
    assert.match(
      formatDisclosure(direct.queueId, await relay.store.disclose(direct.queueId)),
      /mode\s+unicast/,
    );
  });

  it("take a cursor on unicast fetch, not on unicast sub", async (t) => {
    const relay = await startTestRelay(t);
    const { key, queueId, sendId } = await createQueue(relay.url);
    const a = await send(relay.url, sendId, 1);
    const b = await send(relay.url, sendId, 2);
    const res = await command(relay.url, signCommand(key, "fetch", queueId, { msgId: a }));
    assert.equal(res.json["cursorFound"], true);
    assert.deepEqual(
      (res.json["messages"] as { msgId: string }[]).map((m) => m.msgId),
      [b],
    );
    const ws = await openSocket(relay.url);
    t.after(() => ws.close());
    ws.send({ ...signCommand(key, "sub", queueId, { msgId: a }), id: 1 });
    const refused = await ws.next(byId(1));
    assert.deepEqual([refused["type"], refused["code"]], ["err", "bad_request"]);
    ws.send({ ...signCommand(key, "sub", queueId), id: 2 });
    assert.deepEqual(await ws.next(byId(2)), { type: "ok", id: 2 });
    assert.deepEqual(await takeMessages(ws, 2), [a, b]);
  });

  it("cannot be deleted by a member (or a removed one) with del: they expire when idle", async (t) => {
    const relay = await startTestRelay(t);
    const { key, queueId, sendId } = await createQueue(relay.url, newKey(), { broadcast: true });
    const first = await send(relay.url, sendId, 1);
    const member = await openSocket(relay.url);
    t.after(() => member.close());
    member.send({ ...signCommand(key, "sub", queueId), id: 1 });
    await member.next(byId(1));
    await member.next(isMsg);

    const del = await command(relay.url, signCommand(key, "del", queueId));
    assert.deepEqual([del.status, del.json["code"]], [400, "bad_request"]);
    member.send({ ...signCommand(key, "del", queueId), id: 2 });
    assert.equal((await member.next(byId(2)))["code"], "bad_request");
    assert.notEqual(await relay.store.getQueue(queueId), null, "the group's queue is still there");
    const later = await send(relay.url, sendId, 2);
    const fetched = await command(relay.url, signCommand(key, "fetch", queueId));
    assert.deepEqual(
      (fetched.json["messages"] as { msgId: string }[]).map((m) => m.msgId),
      [first, later],
    );
  });

  it("keep a live subscriber's place across TTL expiry, even once the queue was empty", async (t) => {
    const HOUR = 3_600_000;
    let now = Date.now();
    const relay = await startTestRelay(t, {
      now: () => now,
      config: { ttlMs: 2 * HOUR, sweepIntervalMs: 0 },
    });
    const { key, queueId, sendId } = await createQueue(relay.url, newKey(), { broadcast: true });
    const ws = await openSocket(relay.url);
    t.after(() => ws.close());
    ws.send({ ...signCommand(key, "sub", queueId), id: 1 });
    await ws.next(byId(1));
    const old = [await send(relay.url, sendId, 1), await send(relay.url, sendId, 2)];
    assert.deepEqual(await takeMessages(ws, 2), old);

    // Past the TTL: the messages expire and the queue is empty (a member's fetch keeps it alive).
    now += 4 * HOUR;
    const fetchNow = await command(relay.url, signCommand(key, "fetch", queueId, { ts: now }));
    assert.equal(fetchNow.status, 200);
    const swept = await relay.store.expire(now);
    assert.equal(swept.messages, 2);
    assert.ok(await relay.store.getQueue(queueId));

    const next = await send(relay.url, sendId, 3);
    assert.equal((await ws.next(isMsg))["msgId"], next, "the live subscription still gets new messages");
    const reconnect = await openSocket(relay.url);
    t.after(() => reconnect.close());
    reconnect.send({ ...signCommand(key, "sub", queueId, { msgId: old[1]!, ts: now }), id: 1 });
    assert.deepEqual(await reconnect.next(byId(1)), { type: "ok", id: 1, cursorFound: false });
    assert.equal((await reconnect.next(isMsg))["msgId"], next);
  });

  it("hold no per-message bookkeeping in a subscription (no acks will ever come)", async (t) => {
    const store = SqliteStore.open(":memory:");
    const bus = new LocalBus();
    t.after(async () => {
      await bus.close();
      await store.close();
    });
    const config = resolveConfig({ sweepIntervalMs: 0 });
    const ctx: RelayContext = {
      store,
      bus,
      config,
      retention: new Retention(config),
      now: Date.now,
      log: { error() {} } as unknown as FastifyBaseLogger,
      storage: new StorageGuard(config, store, undefined, Date.now, {
        error() {},
      } as unknown as FastifyBaseLogger),
      pow: new PowGate(config, Date.now),
      blobs: new MemoryBlobStore(),
      blobWriters: new Set(),
    };
    const subscribe = async (broadcast: boolean) => {
      const q = await store.createQueue(newKey().publicKey, Date.now() + 3_600_000, { broadcast });
      const pushed: string[] = [];
      const sub = new Subscription(
        q.queueId,
        ctx,
        async (_q, m) => {
          pushed.push(m.msgId);
        },
        (e) => assert.fail(String(e)),
        { broadcast },
      );
      sub.start();
      t.after(() => sub.stop());
      const sent: string[] = [];
      for (let i = 0; i < 40; i++) {
        sent.push((await stored(store.enqueue(q.sendId, envelope(512, i), Date.now() + 3_600_000))).msgId);
        await bus.publish(q.queueId);
      }
      await delay(50);
      assert.deepEqual(pushed, sent);
      return sub;
    };
    assert.equal((await subscribe(true)).trackedCount, 0, "broadcast: only a position is kept");
    assert.equal((await subscribe(false)).trackedCount, 40, "unicast: ids until acknowledged");
  });
});

describe("rendezvous queues", () => {
  it("have ids that follow from the key: the first request creates, every later one finds", async (t) => {
    const relay = await startTestRelay(t);
    const key = newKey();
    const first = await postJson(
      `${relay.url}/v1/queues`,
      signCreate(key, { broadcast: true, rendezvous: true }),
    );
    assert.equal(first.status, 201);
    assert.deepEqual(
      { queueId: first.json["queueId"], sendId: first.json["sendId"] },
      rendezvousIds(key.publicKey),
    );
    const again = await postJson(
      `${relay.url}/v1/queues`,
      signCreate(key, { broadcast: true, rendezvous: true }),
    );
    assert.equal(again.status, 201);
    assert.equal(again.json["queueId"], first.json["queueId"]);
    // The flag is signed: it cannot be added to, or stripped from, a request.
    const plain = signCreate(newKey(), { broadcast: true });
    const upgraded = await postJson(`${relay.url}/v1/queues`, { ...plain, rendezvous: true });
    assert.deepEqual([upgraded.status, upgraded.json["code"]], [401, "bad_signature"]);
    const unicast = await postJson(`${relay.url}/v1/queues`, signCreate(newKey(), { rendezvous: true }));
    assert.equal(unicast.status, 400);
  });
});
