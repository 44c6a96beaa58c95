/**
 * A subscription that is caught up pushes a message the store of this process hands over with its
 * announcement (Bus.publish with the message), without reading it back; anything it cannot take
 * that way (the cap of messages in flight, a body kept in a file) it reads from the store as
 * before. Either way every message is pushed once, in queue order, with its own body.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import { LocalBus } from "../src/bus/local-bus.js";
import { MAX_IN_FLIGHT, Subscription } from "../src/http/ws/subscription.js";
import { SqliteStore, type StoredMessage, startRelay } from "../src/index.js";
import type { RelayContext } from "../src/relay/context.js";
import {
  byId,
  createQueue,
  delay,
  envelope,
  isMsg,
  openSocket,
  postBytes,
  signCommand,
  tempDir,
} from "./helpers.js";

/** A relay on a SQLite file (WAL, synced: a send is answered after its fsync) counting store reads. */
async function relayCountingReads(t: TestContext, inlineBodyMaxBytes?: number) {
  const store = SqliteStore.open(join(tempDir(t), "relay.db"), {
    ...(inlineBodyMaxBytes === undefined ? {} : { inlineBodyMaxBytes }),
  });
  let reads = 0;
  const fetchPending = store.fetchPending.bind(store);
  store.fetchPending = async (queueId, options) => {
    reads++;
    return fetchPending(queueId, options);
  };
  const relay = await startRelay({ port: 0, store });
  const sockets: Awaited<ReturnType<typeof openSocket>>[] = [];
  t.after(async () => {
    await Promise.all(sockets.map((s) => s.close()));
    await relay.close();
    await store.close();
  });
  const subscribe = async (key: Parameters<typeof signCommand>[0], queueId: string) => {
    const ws = await openSocket(relay.url);
    sockets.push(ws);
    ws.send({ ...signCommand(key, "sub", queueId), id: 1 });
    assert.deepEqual(await ws.next(byId(1)), { type: "ok", id: 1 });
    return ws;
  };
  return { relay, reads: () => reads, subscribe };
}

/** Distinct bodies: the size's prefix, then `i` in every byte after it. */
const body = (i: number, size = 512) => {
  const b = envelope(size, i % 251);
  new DataView(b.buffer).setUint32(4, i);
  return b;
};

/**
 * One queue in memory behind a LocalBus: the context a Subscription needs, counting its reads.
 * `inOrder: false` makes the bus one between nodes (NATS), whose announcements may come in any order.
 */
function memoryQueue(inOrder = true) {
  const stored: StoredMessage[] = [];
  const bus = new LocalBus();
  if (!inOrder) Object.defineProperty(bus, "inOrder", { value: false });
  let reads = 0;
  const ctx = {
    bus,
    config: { maxFetchBytes: 16 * 1024 * 1024 },
    store: {
      fetchPending: async (
        _queueId: string,
        o: { afterSeq?: number; limit: number; page?: { more: boolean } },
      ) => {
        reads++;
        const after = stored.filter((m) => m.seq > (o.afterSeq ?? 0));
        if (o.page) o.page.more = after.length > o.limit;
        return after.slice(0, o.limit);
      },
    },
  } as unknown as RelayContext;
  return { stored, bus, ctx, reads: () => reads };
}

describe("subscription: messages handed over with their announcement", () => {
  it("a caught-up subscriber gets each new message without a read of the store", async (t) => {
    const { relay, reads, subscribe } = await relayCountingReads(t);
    const { key, queueId, sendId } = await createQueue(relay.url);
    const ws = await subscribe(key, queueId);
    await delay(50); // the first drain (an empty queue) has read
    const before = reads();
    for (let i = 0; i < 20; i++) {
      const sent = await postBytes(`${relay.url}/v1/send/${sendId}`, body(i));
      assert.equal(sent.status, 202);
      const pushed = await ws.next(isMsg, 5000);
      assert.equal(pushed["msgId"], sent.json["msgId"]);
      assert.equal(pushed["body"], Buffer.from(body(i)).toString("base64url"), "its own body");
      ws.send({ cmd: "ack", id: 100 + i, queueId, msgIds: [pushed["msgId"]] });
      assert.deepEqual(await ws.next(byId(100 + i)), { type: "ok", id: 100 + i });
    }
    assert.equal(reads() - before, 0, "no message read back from the store");
  });

  it("past the cap of messages in flight it reads the store, and every message arrives once, in order", async (t) => {
    const { relay, subscribe } = await relayCountingReads(t);
    const { key, queueId, sendId } = await createQueue(relay.url);
    const ws = await subscribe(key, queueId);
    const count = 2 * MAX_IN_FLIGHT + 40;
    const sent: string[] = [];
    const bodies = new Map<string, string>();
    // One sender, one request at a time: the queue's order is the order of the sends.
    for (let i = 0; i < count; i++) {
      const r = await postBytes(`${relay.url}/v1/send/${sendId}`, body(i));
      assert.equal(r.status, 202);
      sent.push(r.json["msgId"] as string);
      bodies.set(r.json["msgId"] as string, Buffer.from(body(i)).toString("base64url"));
    }
    // Nothing acknowledged yet: the cap holds.
    const got: string[] = [];
    const take = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const m = await ws.next(isMsg, 5000);
        assert.equal(m["body"], bodies.get(m["msgId"] as string), "each message with its own body");
        got.push(m["msgId"] as string);
      }
    };
    await take(MAX_IN_FLIGHT);
    await delay(100);
    assert.equal(ws.unclaimed().filter(isMsg).length, 0, "no more than the cap unacknowledged");
    // Acknowledged in bursts while more are sent: the rest follows, and new sends after it.
    let ackId = 1000;
    while (got.length < count) {
      ws.send({ cmd: "ack", id: ++ackId, queueId, msgIds: got.slice(-MAX_IN_FLIGHT) });
      assert.equal((await ws.next(byId(ackId), 5000))["type"], "ok");
      await take(Math.min(MAX_IN_FLIGHT, count - got.length));
    }
    ws.send({ cmd: "ack", id: ++ackId, queueId, msgIds: got.slice(-MAX_IN_FLIGHT) });
    assert.equal((await ws.next(byId(ackId), 5000))["type"], "ok");
    for (let i = count; i < count + 10; i++) {
      const r = await postBytes(`${relay.url}/v1/send/${sendId}`, body(i));
      sent.push(r.json["msgId"] as string);
      bodies.set(r.json["msgId"] as string, Buffer.from(body(i)).toString("base64url"));
    }
    await take(10);
    assert.deepEqual(got, sent, "every message once, in the order sent");
    await delay(100);
    assert.equal(ws.unclaimed().filter(isMsg).length, 0, "nothing twice");
  });

  it("interleaves messages with bodies in files (read from the store) and inline ones in order", async (t) => {
    const { relay, subscribe } = await relayCountingReads(t, 1024);
    const { key, queueId, sendId } = await createQueue(relay.url);
    const ws = await subscribe(key, queueId);
    const sent: string[] = [];
    const sends = Array.from({ length: 30 }, (_, i) => (i % 3 === 0 ? body(i, 2048) : body(i, 512)));
    for (const b of sends) {
      const r = await postBytes(`${relay.url}/v1/send/${sendId}`, b);
      assert.equal(r.status, 202);
      sent.push(r.json["msgId"] as string);
    }
    const got: string[] = [];
    for (let i = 0; i < sends.length; i++) {
      const m = await ws.next(isMsg, 5000);
      got.push(m["msgId"] as string);
      assert.equal(m["body"], Buffer.from(sends[sent.indexOf(m["msgId"] as string)]!).toString("base64url"));
    }
    assert.deepEqual(got, sent);
    await delay(100);
    assert.equal(ws.unclaimed().filter(isMsg).length, 0, "nothing twice");
  });

  it("holds at most a read's worth of handed-over messages for a socket that does not take them", async () => {
    // A broadcast subscription (no cap in flight) whose socket takes nothing until `open`.
    const { stored, bus, ctx } = memoryQueue();
    let open = () => {};
    const opened = new Promise<void>((resolve) => {
      open = resolve;
    });
    const pushed: string[] = [];
    const sub = new Subscription(
      "q",
      ctx,
      async (_q, m) => {
        await opened;
        pushed.push(m.msgId);
      },
      (e) => assert.fail(String(e)),
      { broadcast: true, afterSeq: 0 },
    );
    sub.start();
    await delay(10); // the first read (an empty queue) is done: caught up
    for (let seq = 1; seq <= 100; seq++) {
      const m = {
        msgId: `m${seq}`,
        seq,
        prevSeq: seq - 1,
        expiresAt: 0,
        body: new Uint8Array(1024).fill(seq),
      };
      stored.push(m);
      await bus.publish("q", m);
    }
    assert.ok(sub.handedCount > 0, "the first ones were handed over");
    assert.ok(sub.handedCount <= 16, `held ${sub.handedCount} handed-over messages`);
    open();
    for (let i = 0; i < 100 && pushed.length < 100; i++) await delay(10);
    assert.deepEqual(
      pushed,
      stored.map((m) => m.msgId),
      "the rest read from the store: each once, in order",
    );
    sub.stop();
    await bus.close();
  });
  it("between nodes: takes a message announced just before the one it follows; reads the store for a gap that stays", async () => {
    // As a NATS bus delivers them: a publisher's announcements in the order it published, which
    // for two inserts answered in the same turn may be the later first; and a node's announcement
    // lost or still on its way, or one announced bare (a large body).
    const { stored, bus, ctx, reads } = memoryQueue(false);
    const pushed: string[] = [];
    const sub = new Subscription(
      "q",
      ctx,
      async (_q, m) => {
        pushed.push(m.msgId);
      },
      (e) => assert.fail(String(e)),
      { broadcast: true, afterSeq: 10 },
    );
    sub.start();
    await delay(10);
    const make = (seq: number, prevSeq: number) => ({
      msgId: `m${seq}`,
      seq,
      prevSeq,
      expiresAt: 0,
      body: new Uint8Array(512).fill(seq),
    });
    const settle = async (n: number) => {
      for (let i = 0; i < 100 && pushed.length < n; i++) await delay(5);
      await delay(20);
    };
    // In order: handed over, no read.
    const m11 = make(11, 10);
    stored.push(m11);
    await bus.publish("q", m11);
    await settle(1);
    assert.equal(reads(), 1, "only the first, empty read");
    // 13 (after 12) announced before 12, in the same turn: 13 waits for 12, then both go, no read.
    const m12 = make(12, 11);
    const m13 = make(13, 12);
    stored.push(m12, m13);
    await bus.publish("q", m13);
    await bus.publish("q", m12);
    await settle(3);
    assert.equal(reads(), 1, "the later one waited for its predecessor");
    // 15 never announced (lost, or another node's still on its way): 16 waits a turn, then the
    // store is read for both.
    const m14 = make(14, 13);
    stored.push(m14);
    await bus.publish("q", m14);
    await settle(4);
    const m15 = make(15, 14);
    const m16 = make(16, 15);
    stored.push(m15, m16);
    await bus.publish("q", m16);
    await settle(6);
    const afterGap = reads();
    assert.ok(afterGap > 1, "the gap was read from the store");
    // A bare announcement (a large body): read; the next one follows it again.
    const m17 = make(17, 16);
    const m18 = make(18, 17);
    stored.push(m17);
    await bus.publish("q");
    await settle(7);
    stored.push(m18);
    await bus.publish("q", m18);
    await settle(8);
    assert.deepEqual(
      pushed,
      ["m11", "m12", "m13", "m14", "m15", "m16", "m17", "m18"],
      "each once, in queue order",
    );
    assert.ok(reads() > afterGap, "the bare one was read");
    sub.stop();
    await bus.close();
  });
});
