import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ServerFrame } from "@parley/protocol";
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
  signCommand,
  startTestRelay,
} from "./helpers.js";

const send = async (url: string, sendId: string, fill: number) => {
  const res = await postBytes(`${url}/v1/send/${sendId}`, envelope(512, fill));
  assert.equal(res.status, 202);
  return res.json["msgId"] as string;
};

describe("relay WebSocket", () => {
  it("answers ping at once, unsigned; a malformed ping gets err with its id", async (t) => {
    const relay = await startTestRelay(t);
    const ws = await openSocket(relay.url);
    t.after(() => ws.close());
    ws.send({ cmd: "ping", id: 7 });
    assert.deepEqual(await ws.next(byId(7)), { type: "ok", id: 7 });
    ws.send({ cmd: "ping", id: 8, queueId: "x" });
    const refused = await ws.next(byId(8));
    assert.deepEqual([refused["type"], refused["code"]], ["err", "bad_request"]);
  });

  it("sub delivers pending messages, then new ones as they arrive; ack deletes", async (t) => {
    const relay = await startTestRelay(t);
    const { key, queueId, sendId } = await createQueue(relay.url);
    const pending = [await send(relay.url, sendId, 1), await send(relay.url, sendId, 2)];

    const ws = await openSocket(relay.url);
    t.after(() => ws.close());
    ws.send({ ...signCommand(key, "sub", queueId), id: 1 });
    assert.deepEqual(await ws.next(byId(1)), { type: "ok", id: 1 });
    const first = await ws.next(isMsg);
    const second = await ws.next(isMsg);
    assert.ok(ServerFrame.safeParse(first).success);
    assert.deepEqual([first["msgId"], second["msgId"]], pending, "pending messages, oldest first");
    assert.equal(first["queueId"], queueId);
    assert.deepEqual(Buffer.from(first["body"] as string, "base64url"), Buffer.from(envelope(512, 1)));

    const live = await send(relay.url, sendId, 3);
    const pushed = await ws.next(isMsg);
    assert.equal(pushed["msgId"], live);
    assert.deepEqual(Buffer.from(pushed["body"] as string, "base64url"), Buffer.from(envelope(512, 3)));

    ws.send({ ...signCommand(key, "ack", queueId, { msgId: pending[0]! }), id: 2 });
    assert.deepEqual(await ws.next(byId(2)), { type: "ok", id: 2 });
    ws.send({ ...signCommand(key, "ack", queueId, { msgId: pending[0]! }), id: 3 });
    const again = await ws.next(byId(3));
    assert.equal(again["type"], "err");
    assert.equal(again["code"], "unknown_message");

    const fetched = await command(relay.url, signCommand(key, "fetch", queueId));
    assert.deepEqual(
      (fetched.json["messages"] as { msgId: string }[]).map((m) => m.msgId),
      [pending[1], live],
    );
    await delay(50);
    assert.deepEqual(ws.unclaimed(), [], "each message pushed once on this subscription");
  });

  it("redelivers unacknowledged messages to a new subscription, and pushes to every subscriber", async (t) => {
    const relay = await startTestRelay(t);
    const { key, queueId, sendId } = await createQueue(relay.url);
    const a = await openSocket(relay.url);
    const b = await openSocket(relay.url);
    t.after(() => Promise.all([a.close(), b.close()]));
    a.send({ ...signCommand(key, "sub", queueId), id: 1 });
    b.send({ ...signCommand(key, "sub", queueId), id: 1 });
    await a.next(byId(1));
    await b.next(byId(1));
    const msgId = await send(relay.url, sendId, 1);
    assert.equal((await a.next(isMsg))["msgId"], msgId);
    assert.equal((await b.next(isMsg))["msgId"], msgId);
    await a.close();

    const c = await openSocket(relay.url);
    t.after(() => c.close());
    c.send({ ...signCommand(key, "sub", queueId), id: 7 });
    await c.next(byId(7));
    assert.equal((await c.next(isMsg))["msgId"], msgId, "at-least-once: still there until acked");
  });

  it("answers malformed frames with err (echoing a readable id) and keeps the connection usable", async (t) => {
    const relay = await startTestRelay(t);
    const { key, queueId, sendId } = await createQueue(relay.url);
    const ws = await openSocket(relay.url);
    t.after(() => ws.close());

    const expectNullErr = async (what: string) => {
      const f = await ws.next(byId(null));
      assert.equal(f["type"], "err", what);
      assert.equal(f["code"], "bad_request", what);
      assert.ok(ServerFrame.safeParse(f).success, what);
    };
    ws.send("{not json");
    await expectNullErr("bad JSON");
    ws.socket.send(Buffer.from([1, 2, 3]), { binary: true });
    await expectNullErr("binary frame");
    ws.send({ cmd: "sub", queueId, id: 5 });
    const unsigned = await ws.next(byId(5));
    assert.deepEqual([unsigned["type"], unsigned["code"]], ["err", "bad_request"], "schema violation");
    assert.ok(ServerFrame.safeParse(unsigned).success);
    ws.send({ ...signCommand(key, "sub", queueId), id: -1 });
    await expectNullErr("negative id");
    ws.send({ ...signCommand(key, "sub", queueId), id: "6" });
    await expectNullErr("id that is not a number");
    ws.send({ ...signCommand(key, "sub", queueId), cmd: "nope", id: 1.5 });
    await expectNullErr("id that is not an integer");
    ws.send(JSON.stringify({ pad: "x".repeat(10_000) }));
    await expectNullErr("oversized frame");
    ws.send("null");
    await expectNullErr("JSON that is not an object");

    ws.send({ ...signCommand(newKey(), "sub", queueId), id: 8 });
    const bad = await ws.next(byId(8));
    assert.deepEqual([bad["type"], bad["code"]], ["err", "bad_signature"]);
    ws.send({ ...signCommand(key, "sub", "AAAAAAAAAAAAAAAAAAAAAA"), id: 9 });
    assert.equal((await ws.next(byId(9)))["code"], "unknown_queue");
    ws.send({ ...signCommand(key, "sub", queueId, { ts: Date.now() - 3_600_000 }), id: 10 });
    assert.equal((await ws.next(byId(10)))["code"], "clock_skew");

    // Still usable: a valid subscription works on the same socket.
    ws.send({ ...signCommand(key, "sub", queueId), id: 11 });
    assert.deepEqual(await ws.next(byId(11)), { type: "ok", id: 11 });
    const msgId = await send(relay.url, sendId, 4);
    assert.equal((await ws.next(isMsg))["msgId"], msgId);
    assert.equal(ws.closed(), undefined);
  });

  it("rejects a replayed frame", async (t) => {
    const relay = await startTestRelay(t);
    const { key, queueId } = await createQueue(relay.url);
    const ws = await openSocket(relay.url);
    t.after(() => ws.close());
    const frame = signCommand(key, "sub", queueId);
    ws.send({ ...frame, id: 1 });
    assert.deepEqual(await ws.next(byId(1)), { type: "ok", id: 1 });
    ws.send({ ...frame, id: 2 });
    const replayed = await ws.next(byId(2));
    assert.deepEqual([replayed["type"], replayed["code"]], ["err", "replay"]);
  });

  it("fetch and del work over the socket", async (t) => {
    const relay = await startTestRelay(t);
    const { key, queueId, sendId } = await createQueue(relay.url);
    const msgId = await send(relay.url, sendId, 1);
    const ws = await openSocket(relay.url);
    t.after(() => ws.close());
    ws.send({ ...signCommand(key, "fetch", queueId), id: 1 });
    assert.equal((await ws.next(isMsg))["msgId"], msgId);
    assert.deepEqual(await ws.next(byId(1)), { type: "ok", id: 1 });
    ws.send({ ...signCommand(key, "del", queueId), id: 2 });
    assert.deepEqual(await ws.next(byId(2)), { type: "ok", id: 2 });
    assert.equal(await relay.store.getQueue(queueId), null);
  });

  it("survives a frame over the hard size limit and refuses upgrades on other routes", async (t) => {
    const relay = await startTestRelay(t);
    const ws = await openSocket(relay.url);
    ws.send("x".repeat(100 * 1024));
    const { code } = await ws.whenClosed();
    assert.equal(code, 1009, "message too big");

    await assert.rejects(openSocket(relay.url, "/v1/send/AAAAAAAAAAAAAAAAAAAAAA"));
    await assert.rejects(openSocket(relay.url, "/nowhere"));
    const res = await fetch(`${relay.url}/v1/health`);
    assert.equal(res.status, 200);
  });
});
