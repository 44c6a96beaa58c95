/**
 * A unicast subscription on a large backlog: it reads by position (each message read once, however
 * large the backlog) and keeps at most MAX_IN_FLIGHT pushed messages waiting for their ack, so a
 * client that never acknowledges cannot make the relay push, or hold ids for, the whole backlog.
 */
import assert from "node:assert/strict";
import { describe, it, type TestContext } from "node:test";
import { MAX_IN_FLIGHT } from "../src/http/ws/subscription.js";
import { SqliteStore, startRelay } from "../src/index.js";
import {
  byId,
  createQueue,
  delay,
  envelope,
  isMsg,
  openSocket,
  postBytes,
  signCommand,
  stored,
} from "./helpers.js";

const HOUR = 3_600_000;

/** A relay on an in-memory store that counts, per queue, the message rows read while pushing. */
async function relayWithCountingStore(t: TestContext) {
  const store = SqliteStore.open(":memory:");
  const rowsRead = new Map<string, number>();
  const fetchPending = store.fetchPending.bind(store);
  store.fetchPending = async (queueId, options) => {
    const rows = await fetchPending(queueId, options);
    rowsRead.set(queueId, (rowsRead.get(queueId) ?? 0) + rows.length);
    return rows;
  };
  const relay = await startRelay({ port: 0, store });
  const sockets: Awaited<ReturnType<typeof openSocket>>[] = [];
  t.after(async () => {
    await Promise.all(sockets.map((s) => s.close()));
    await relay.close();
    await store.close();
  });
  const open = async () => {
    const ws = await openSocket(relay.url);
    sockets.push(ws);
    return ws;
  };
  return { relay, store, rowsRead, open };
}

/** Puts `count` messages straight into the store (much faster than sending each over HTTP). */
async function fill(store: SqliteStore, sendId: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  const expiresAt = Date.now() + HOUR;
  for (let i = 0; i < count; i++)
    ids.push((await stored(store.enqueue(sendId, envelope(512, i % 256), expiresAt))).msgId);
  return ids;
}

type Socket = Awaited<ReturnType<typeof openSocket>>;

async function nextMessages(ws: Socket, count: number): Promise<string[]> {
  const got: string[] = [];
  while (got.length < count) got.push((await ws.next(isMsg, 5000))["msgId"] as string);
  return got;
}

/** Lets the relay do whatever it would still do, then checks that no message was pushed. */
async function assertNothingMore(ws: Socket, what: string) {
  await delay(100);
  assert.equal(ws.unclaimed().filter(isMsg).length, 0, what);
}

describe("unicast subscription on a large backlog", () => {
  it("a subscriber that never acks gets MAX_IN_FLIGHT messages, then one more per ack", async (t) => {
    const { relay, store, open } = await relayWithCountingStore(t);
    const { key, queueId, sendId } = await createQueue(relay.url);
    const sent = await fill(store, sendId, 3 * MAX_IN_FLIGHT);

    const ws = await open();
    ws.send({ ...signCommand(key, "sub", queueId), id: 1 });
    assert.deepEqual(await ws.next(byId(1)), { type: "ok", id: 1 });
    const first = await nextMessages(ws, MAX_IN_FLIGHT);
    assert.deepEqual(first, sent.slice(0, MAX_IN_FLIGHT), "the oldest ones, in order, each once");
    // A new message wakes the subscription, which must stay at the cap.
    assert.equal((await postBytes(`${relay.url}/v1/send/${sendId}`, envelope(512, 1))).status, 202);
    await assertNothingMore(ws, "nothing beyond the cap while no ack comes");

    // Acks (in any order) free their places: exactly as many messages follow, the next in order.
    const acked = [first[7]!, first[3]!, first[100]!, first[0]!, first[50]!];
    for (const [i, msgId] of acked.entries()) {
      ws.send({ ...signCommand(key, "ack", queueId, { msgId }), id: 10 + i });
      assert.deepEqual(await ws.next(byId(10 + i)), { type: "ok", id: 10 + i });
    }
    assert.deepEqual(
      await nextMessages(ws, acked.length),
      sent.slice(MAX_IN_FLIGHT, MAX_IN_FLIGHT + acked.length),
    );
    await assertNothingMore(ws, "no more than one message per ack");

    // An ack of a message that is already gone still frees its place.
    assert.equal(await store.ack(queueId, first[1]!), true);
    ws.send({ ...signCommand(key, "ack", queueId, { msgId: first[1]! }), id: 20 });
    assert.equal((await ws.next(byId(20)))["code"], "unknown_message");
    assert.deepEqual(await nextMessages(ws, 1), [sent[MAX_IN_FLIGHT + acked.length]]);
    await assertNothingMore(ws, "one place freed, one message");

    // A repeated sub starts over from the beginning of the queue: every unacknowledged message again.
    ws.send({ ...signCommand(key, "sub", queueId), id: 30 });
    assert.deepEqual(await ws.next(byId(30)), { type: "ok", id: 30 });
    const gone = new Set([...acked, first[1]!]);
    assert.deepEqual(
      await nextMessages(ws, MAX_IN_FLIGHT),
      sent.filter((id) => !gone.has(id)).slice(0, MAX_IN_FLIGHT),
    );
    await assertNothingMore(ws, "the cap holds on the new subscription too");
  });

  it("a subscriber that acks as it goes gets a backlog of thousands completely, once each, in order", async (t) => {
    const { relay, store, rowsRead, open } = await relayWithCountingStore(t);
    const { key, queueId, sendId } = await createQueue(relay.url);
    const count = 2000;
    const sent = await fill(store, sendId, count);

    const ws = await open();
    ws.send({ ...signCommand(key, "sub", queueId), id: 1 });
    assert.deepEqual(await ws.next(byId(1)), { type: "ok", id: 1 });
    const got: string[] = [];
    // Acks are sent as messages come, with a bounded number awaiting their reply (the relay
    // refuses more than 64 queued commands per connection).
    const replies: Promise<Record<string, unknown>>[] = [];
    let id = 100;
    while (got.length < count) {
      const msgId = (await ws.next(isMsg, 5000))["msgId"] as string;
      got.push(msgId);
      const ackId = id++;
      ws.send({ ...signCommand(key, "ack", queueId, { msgId }), id: ackId });
      replies.push(ws.next(byId(ackId), 10_000));
      if (replies.length >= 32) assert.equal((await replies.shift()!)["type"], "ok");
    }
    for (const r of await Promise.all(replies)) assert.equal(r["type"], "ok");

    assert.equal(new Set(got).size, count, "once each");
    assert.deepEqual(got, sent, "all of them, in order");
    assert.deepEqual(await store.fetchPending(queueId, { limit: 10 }), [], "all acknowledged");
    assert.equal(rowsRead.get(queueId), count, "each message read from the store once");
    await assertNothingMore(ws, "nothing pushed twice");
  });

  it("a subscriber sitting on a 20,000-message backlog costs the relay only the cap; others carry on", async (t) => {
    const { relay, store, rowsRead, open } = await relayWithCountingStore(t);
    const idle = await createQueue(relay.url);
    await fill(store, idle.sendId, 20_000);

    const sitter = await open();
    sitter.send({ ...signCommand(idle.key, "sub", idle.queueId), id: 1 });
    assert.deepEqual(await sitter.next(byId(1)), { type: "ok", id: 1 });
    await nextMessages(sitter, MAX_IN_FLIGHT);

    // Another client, meanwhile: create, subscribe, receive, acknowledge.
    const other = await createQueue(relay.url);
    const ws = await open();
    ws.send({ ...signCommand(other.key, "sub", other.queueId), id: 1 });
    assert.deepEqual(await ws.next(byId(1)), { type: "ok", id: 1 });
    const sent = await postBytes(`${relay.url}/v1/send/${other.sendId}`, envelope(512, 9));
    assert.equal(sent.status, 202);
    const pushed = await ws.next(isMsg);
    assert.equal(pushed["msgId"], sent.json["msgId"]);
    ws.send({ ...signCommand(other.key, "ack", other.queueId, { msgId: pushed["msgId"] as string }), id: 2 });
    assert.deepEqual(await ws.next(byId(2)), { type: "ok", id: 2 });

    await assertNothingMore(sitter, "the sitter got the cap and no more");
    assert.equal(
      rowsRead.get(idle.queueId),
      MAX_IN_FLIGHT,
      "rows read for the sitter: the cap, not the backlog",
    );
  });
});
