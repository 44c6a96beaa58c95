/**
 * Batched acks (docs/protocol.md, "Acknowledging"): a signed `ack` with `msgIds` (one signature for
 * the whole list, HTTP and WebSocket), and the unsigned _session ack_ on a WebSocket that holds a
 * signed subscription to the queue. What must hold: nobody without the queue's key deletes anything
 * (an unsigned ack on a connection that did not subscribe the queue, a signature over another list
 * or for another queue); only the listed messages of that queue go; a batch played again deletes
 * nothing new; a malformed batch (too long, empty, an id twice) is refused whole.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RunningRelay } from "../src/index.js";
import {
  byId,
  command,
  createQueue,
  delay,
  envelope,
  isMsg,
  openSocket,
  postBytes,
  signCommand,
  startTestRelay,
} from "./helpers.js";

const send = async (url: string, sendId: string, fill = 1) => {
  const res = await postBytes(`${url}/v1/send/${sendId}`, envelope(512, fill));
  assert.equal(res.status, 202);
  return res.json["msgId"] as string;
};
const NEVER = "AAAAAAAAAAAAAAAAAAAAAA";
/** ACK_BATCH_LIMIT, and the subscription's in-flight cap (written out: the tests also run against relays without it). */
const ACK_BATCH_LIMIT = 128;

async function held(relay: RunningRelay, queueId: string): Promise<string[]> {
  return (await relay.store.fetchPending(queueId, { limit: 1000 })).map((m) => m.msgId);
}

/** A relay, a queue with `n` messages, and a socket subscribed to it that has received them. */
async function subscribed(t: Parameters<typeof startTestRelay>[0], n: number) {
  const relay = await startTestRelay(t);
  const q = await createQueue(relay.url);
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(await send(relay.url, q.sendId, i + 1));
  const ws = await openSocket(relay.url);
  t.after(async () => {
    await ws.close();
  });
  ws.send({ ...signCommand(q.key, "sub", q.queueId), id: 1 });
  assert.deepEqual(await ws.next(byId(1)), { type: "ok", id: 1 });
  for (let i = 0; i < n; i++) await ws.next(isMsg);
  return { relay, q, ids, ws };
}

describe("batched acks", () => {
  it("a session ack on the subscribing connection deletes the listed messages and names the unknown ones", async (t) => {
    const { relay, q, ids, ws } = await subscribed(t, 4);
    ws.send({ cmd: "ack", id: 2, queueId: q.queueId, msgIds: [ids[0], ids[2], NEVER] });
    assert.deepEqual(await ws.next(byId(2)), { type: "ok", id: 2, unknown: [NEVER] });
    assert.deepEqual(await held(relay, q.queueId), [ids[1], ids[3]]);
    ws.send({ cmd: "ack", id: 3, queueId: q.queueId, msgIds: [ids[1], ids[3]] });
    assert.deepEqual(await ws.next(byId(3)), { type: "ok", id: 3 });
    assert.deepEqual(await held(relay, q.queueId), []);
    // Played again on the same connection: nothing left to delete, every id unknown.
    ws.send({ cmd: "ack", id: 4, queueId: q.queueId, msgIds: [ids[1], ids[3]] });
    assert.deepEqual(await ws.next(byId(4)), { type: "ok", id: 4, unknown: [ids[1], ids[3]] });
  });

  it("refuses an unsigned ack on a connection that did not subscribe the queue: nothing deleted", async (t) => {
    const { relay, q, ids } = await subscribed(t, 2);
    const stranger = await openSocket(relay.url);
    t.after(() => stranger.close());
    stranger.send({ cmd: "ack", id: 1, queueId: q.queueId, msgIds: [ids[0]] });
    const refused = await stranger.next(byId(1));
    assert.deepEqual([refused["type"], refused["code"]], ["err", "bad_signature"]);
    assert.deepEqual(await held(relay, q.queueId), ids);
  });

  it("refuses a session ack for a queue other than the one subscribed, and never touches another queue's messages", async (t) => {
    const { relay, q, ids, ws } = await subscribed(t, 1);
    const other = await createQueue(relay.url);
    const theirs = await send(relay.url, other.sendId, 9);
    ws.send({ cmd: "ack", id: 2, queueId: other.queueId, msgIds: [theirs] });
    const refused = await ws.next(byId(2));
    assert.deepEqual([refused["type"], refused["code"]], ["err", "bad_signature"]);
    // Another queue's id inside this queue's batch: not deleted, reported unknown.
    ws.send({ cmd: "ack", id: 3, queueId: q.queueId, msgIds: [theirs, ids[0]] });
    assert.deepEqual(await ws.next(byId(3)), { type: "ok", id: 3, unknown: [theirs] });
    assert.deepEqual(await held(relay, other.queueId), [theirs]);
    assert.deepEqual(await held(relay, q.queueId), []);
  });

  it("refuses a batch that is too long, empty, or lists an id twice, whole: nothing deleted", async (t) => {
    const { relay, q, ids, ws } = await subscribed(t, 2);
    const tooMany = [
      ids[0]!,
      ...Array.from({ length: ACK_BATCH_LIMIT }, (_, i) => `${String(i).padStart(4, "0")}AAAAAAAAAAAAAAAAAA`),
    ];
    const cases: [number, unknown][] = [
      [2, tooMany],
      [3, []],
      [4, [ids[0], ids[0]]],
      [5, [ids[0], "not an id"]],
      [6, ids[0]],
    ];
    for (const [id, msgIds] of cases) {
      ws.send({ cmd: "ack", id, queueId: q.queueId, msgIds });
      const refused = await ws.next(byId(id));
      assert.deepEqual([refused["type"], refused["code"]], ["err", "bad_request"], `case ${id}`);
    }
    // The same limits hold for a signed batch.
    const signed = await command(relay.url, signCommand(q.key, "ack", q.queueId, { msgIds: tooMany }));
    assert.equal(signed.status, 400);
    assert.deepEqual(await held(relay, q.queueId), ids);
    // An ack names its messages one way: msgId or msgIds, not both; only ack takes msgIds.
    const both = await command(
      relay.url,
      signCommand(q.key, "ack", q.queueId, { msgId: ids[0]!, msgIds: [ids[1]!] }),
    );
    assert.deepEqual([both.status, both.json["code"]], [400, "bad_request"]);
    const fetch = await command(relay.url, signCommand(q.key, "fetch", q.queueId, { msgIds: [ids[1]!] }));
    assert.deepEqual([fetch.status, fetch.json["code"]], [400, "bad_request"]);
    assert.deepEqual(await held(relay, q.queueId), ids);
  });

  it("a signed batch over HTTP deletes with one signature; forged, retargeted or replayed batches delete nothing more", async (t) => {
    const relay = await startTestRelay(t);
    const q = await createQueue(relay.url);
    const other = await createQueue(relay.url);
    const ids = [
      await send(relay.url, q.sendId, 1),
      await send(relay.url, q.sendId, 2),
      await send(relay.url, q.sendId, 3),
    ];
    const theirs = await send(relay.url, other.sendId, 4);

    // An id swapped after signing: the signature covers the list.
    const tampered = signCommand(q.key, "ack", q.queueId, { msgIds: [ids[0]!] });
    const forged = await command(relay.url, { ...tampered, msgIds: [ids[1]] });
    assert.deepEqual([forged.status, forged.json["code"]], [401, "bad_signature"]);
    // Signed by this queue's key for another queue: the other queue's key does not verify it.
    const retargeted = await command(
      relay.url,
      signCommand(q.key, "ack", other.queueId, { msgIds: [theirs] }),
    );
    assert.deepEqual([retargeted.status, retargeted.json["code"]], [401, "bad_signature"]);
    assert.deepEqual(await held(relay, q.queueId), ids);
    assert.deepEqual(await held(relay, other.queueId), [theirs]);

    const batch = signCommand(q.key, "ack", q.queueId, { msgIds: [ids[0]!, ids[2]!, theirs] });
    const first = await command(relay.url, batch);
    assert.deepEqual([first.status, first.json], [200, { ok: true, unknown: [theirs] }]);
    assert.deepEqual(await held(relay, q.queueId), [ids[1]]);
    const replayed = await command(relay.url, batch);
    assert.deepEqual(
      [replayed.status, replayed.json],
      [200, { ok: true, unknown: [ids[0], ids[2], theirs] }],
    );
    assert.deepEqual(await held(relay, q.queueId), [ids[1]]);
    assert.deepEqual(await held(relay, other.queueId), [theirs]);
  });

  it("a signed batch works on a WebSocket without a subscription; a tampered one is refused", async (t) => {
    const relay = await startTestRelay(t);
    const q = await createQueue(relay.url);
    const ids = [await send(relay.url, q.sendId, 1), await send(relay.url, q.sendId, 2)];
    const ws = await openSocket(relay.url);
    t.after(() => ws.close());
    const signed = signCommand(q.key, "ack", q.queueId, { msgIds: [ids[0]!] });
    ws.send({ ...signed, msgIds: [ids[1]], id: 1 });
    const refused = await ws.next(byId(1));
    assert.deepEqual([refused["type"], refused["code"]], ["err", "bad_signature"]);
    assert.deepEqual(await held(relay, q.queueId), ids);
    ws.send({ ...signed, id: 2 });
    assert.deepEqual(await ws.next(byId(2)), { type: "ok", id: 2 });
    assert.deepEqual(await held(relay, q.queueId), [ids[1]]);
  });

  it("refuses a session ack on a broadcast queue, and after the subscription is gone (del)", async (t) => {
    const relay = await startTestRelay(t);
    const group = await createQueue(relay.url, undefined, { broadcast: true });
    const shared = await send(relay.url, group.sendId, 1);
    const ws = await openSocket(relay.url);
    t.after(() => ws.close());
    ws.send({ ...signCommand(group.key, "sub", group.queueId), id: 1 });
    await ws.next(byId(1));
    await ws.next(isMsg);
    ws.send({ cmd: "ack", id: 2, queueId: group.queueId, msgIds: [shared] });
    const refused = await ws.next(byId(2));
    assert.deepEqual([refused["type"], refused["code"]], ["err", "bad_request"]);
    assert.deepEqual(await held(relay, group.queueId), [shared]);

    const q = await createQueue(relay.url);
    ws.send({ ...signCommand(q.key, "sub", q.queueId), id: 3 });
    await ws.next(byId(3));
    ws.send({ ...signCommand(q.key, "del", q.queueId), id: 4 });
    await ws.next(byId(4));
    ws.send({ cmd: "ack", id: 5, queueId: q.queueId, msgIds: [NEVER] });
    const gone = await ws.next(byId(5));
    assert.deepEqual([gone["type"], gone["code"]], ["err", "bad_signature"]);
  });

  it("one session ack frees the subscription's in-flight cap for every id it names", async (t) => {
    const { relay, q, ids, ws } = await subscribed(t, 0);
    const total = 130;
    for (let i = 0; i < total; i++) ids.push(await send(relay.url, q.sendId, i % 200));
    const pushed: string[] = [];
    for (let i = 0; i < ACK_BATCH_LIMIT; i++) pushed.push((await ws.next(isMsg))["msgId"] as string);
    await delay(300);
    assert.deepEqual(ws.unclaimed().filter(isMsg), [], "at the cap: nothing more until acks");
    ws.send({ cmd: "ack", id: 2, queueId: q.queueId, msgIds: pushed });
    assert.deepEqual(await ws.next(byId(2)), { type: "ok", id: 2 });
    const rest = [(await ws.next(isMsg))["msgId"], (await ws.next(isMsg))["msgId"]];
    assert.deepEqual(rest, ids.slice(ACK_BATCH_LIMIT));
    assert.deepEqual(await held(relay, q.queueId), ids.slice(ACK_BATCH_LIMIT));
  });
});
