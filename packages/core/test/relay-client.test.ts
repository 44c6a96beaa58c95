/**
 * The core relay client (RelayHttpClient, RelaySocket) against a real relay (in process): broadcast
 * queues, cursors, that broadcast queues are never acknowledged, and proof of work solved by the client.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { WebSocket } from "ws";
import {
  RelayError,
  RelayHttpClient,
  RelaySocket,
  type RelaySocketOptions,
  type WebSocketLike,
} from "../src/index.js";
import { nodeCryptoProvider as crypto } from "../src/node.js";
import { delay, envelope, startTestRelay } from "./helpers/relay.js";

/** A WebSocket factory that records every frame the client sends and can drop the connection. */
function recordingSockets() {
  const sent: Record<string, unknown>[] = [];
  const sockets: WebSocket[] = [];
  const factory = (url: string): WebSocketLike => {
    const ws = new WebSocket(url);
    sockets.push(ws);
    const send = ws.send.bind(ws);
    ws.send = ((data: string) => {
      sent.push(JSON.parse(data) as Record<string, unknown>);
      send(data);
    }) as typeof ws.send;
    return ws as unknown as WebSocketLike;
  };
  return { factory, sent, sockets, current: () => sockets.at(-1)! };
}

async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await delay(10);
  }
}

/** A member's socket: handles messages into `got`, keeps the cursor the way a client engine would. */
function member(url: string, options: Partial<RelaySocketOptions> & { keepCursor?: boolean } = {}) {
  const got: string[] = [];
  const errors: Error[] = [];
  const lost: string[] = [];
  let cursor: string | undefined;
  const rec = recordingSockets();
  const socket = new RelaySocket(url, crypto, {
    webSocket: rec.factory,
    onMessage: async (_q, msgId) => {
      got.push(msgId);
      cursor = msgId;
    },
    onError: (e) => errors.push(e),
    onCursorNotFound: (q) => lost.push(q.queueId),
    ...(options.keepCursor === false ? {} : { cursorFor: async () => cursor }),
    maxBackoffMs: 100,
    ...options,
  });
  return {
    socket,
    got,
    errors,
    lost,
    rec,
    setCursor: (c: string | undefined) => {
      cursor = c;
    },
  };
}

const subFrames = (sent: Record<string, unknown>[]) => sent.filter((f) => f["cmd"] === "sub");
const ackFrames = (sent: Record<string, unknown>[]) => sent.filter((f) => f["cmd"] === "ack");

describe("relay client: broadcast queues", () => {
  it("RelayHttpClient creates broadcast queues, fetches after a cursor, and gets acks refused", async (t) => {
    const relay = await startTestRelay(t);
    const http = new RelayHttpClient(relay.url, crypto);
    const group = await http.createQueue({ broadcast: true });
    assert.equal(group.broadcast, true);
    const direct = await http.createQueue();
    assert.equal("broadcast" in direct, false, "unicast credentials are unchanged");
    assert.equal((await relay.store.getQueue(group.queueId))!.broadcast, true);
    assert.equal((await relay.store.getQueue(direct.queueId))!.broadcast, false);

    const ids = [];
    for (let i = 1; i <= 4; i++) ids.push(await http.send(group.sendId, envelope(512, i)));
    const all = await http.fetchMessages(group);
    assert.deepEqual(
      all.map((m) => m.msgId),
      ids,
    );
    assert.equal(all.cursorFound, true, "no cursor: nothing to miss");
    const after = await http.fetchMessages(group, { after: ids[1]! });
    assert.deepEqual(
      after.map((m) => m.msgId),
      ids.slice(2),
    );
    assert.equal(after.cursorFound, true);
    const gone = await http.fetchMessages(group, { after: "AAAAAAAAAAAAAAAAAAAAAA" });
    assert.equal(gone.cursorFound, false);
    assert.equal(gone.length, 4);

    await assert.rejects(http.ack(group, ids[0]!), (e: unknown) => {
      assert.ok(e instanceof RelayError);
      assert.equal(e.code, "bad_request");
      assert.equal(e.status, 400);
      return true;
    });
    assert.equal((await http.fetchMessages(group)).length, 4, "still held for every member");

    // Unicast behaves as before: fetch, ack, gone.
    const one = await http.send(direct.sendId, envelope(512, 9));
    assert.deepEqual(
      (await http.fetchMessages(direct)).map((m) => m.msgId),
      [one],
    );
    await http.ack(direct, one);
    assert.equal((await http.fetchMessages(direct)).length, 0);
  });

  it("RelaySocket: two members both get each message once, in order, and never acknowledge", async (t) => {
    const relay = await startTestRelay(t);
    const http = new RelayHttpClient(relay.url, crypto);
    const group = await http.createQueue({ broadcast: true });
    const alice = member(relay.url);
    const bob = member(relay.url);
    t.after(() => {
      alice.socket.close();
      bob.socket.close();
    });
    alice.socket.start([group]);
    bob.socket.start([{ ...group }]);
    await until(() => subFrames(alice.rec.sent).length === 1 && subFrames(bob.rec.sent).length === 1, "subs");
    await delay(50);

    const sent = [];
    for (let i = 1; i <= 6; i++) sent.push(await http.send(group.sendId, envelope(512, i)));
    await until(() => alice.got.length === 6 && bob.got.length === 6, "delivery");
    await alice.socket.idle();
    await bob.socket.idle();
    await delay(50);
    assert.deepEqual(alice.got, sent);
    assert.deepEqual(bob.got, sent);
    assert.deepEqual(ackFrames(alice.rec.sent), [], "no acks on a broadcast queue");
    assert.deepEqual(ackFrames(bob.rec.sent), []);
    assert.deepEqual([...alice.errors, ...bob.errors], []);
    assert.equal((await http.fetchMessages(group)).length, 6, "one stored copy, kept for everyone");
  });

  it("RelaySocket: on reconnect, resubscribes from the caller's cursor and gets only what it missed", async (t) => {
    const relay = await startTestRelay(t);
    const http = new RelayHttpClient(relay.url, crypto);
    const group = await http.createQueue({ broadcast: true });
    const unicast = await http.createQueue();
    const m = member(relay.url);
    t.after(() => m.socket.close());
    m.socket.start([group, unicast]);
    await until(() => subFrames(m.rec.sent).length === 2, "subs");
    const first = [
      await http.send(group.sendId, envelope(512, 1)),
      await http.send(group.sendId, envelope(512, 2)),
    ];
    await until(() => m.got.length === 2, "first messages");
    const firstSub = subFrames(m.rec.sent).find((f) => f["queueId"] === group.queueId)!;
    assert.equal(firstSub["msgId"], undefined, "no cursor yet");

    // Drop the connection, and send while it is down.
    const old = m.rec.current();
    old.terminate();
    await until(() => old.readyState === WebSocket.CLOSED, "close");
    const missed = [
      await http.send(group.sendId, envelope(512, 3)),
      await http.send(group.sendId, envelope(512, 4)),
    ];
    await until(() => m.got.length === 4, "missed messages after reconnect");
    await delay(100);
    assert.deepEqual(m.got, [...first, ...missed], "each message once: only what was missed");

    const subs = subFrames(m.rec.sent);
    const groupSubs = subs.filter((f) => f["queueId"] === group.queueId);
    assert.equal(groupSubs.length, 2);
    assert.equal(groupSubs[1]!["msgId"], first[1], "resubscribed with the cursor");
    const unicastSubs = subs.filter((f) => f["queueId"] === unicast.queueId);
    assert.equal(unicastSubs.length, 2);
    assert.equal(unicastSubs[1]!["msgId"], undefined, "unicast subs carry no cursor");
    assert.deepEqual(m.lost, []);
    assert.deepEqual(m.errors, []);

    // Unicast messages on the same socket are still acknowledged (and so deleted).
    const direct = await http.send(unicast.sendId, envelope(512, 5));
    await until(() => m.got.includes(direct), "unicast delivery");
    await until(() => ackFrames(m.rec.sent).length === 1, "unicast ack");
    assert.deepEqual(ackFrames(m.rec.sent)[0]!["msgIds"], [direct]);
    for (let i = 0; (await relay.store.fetchPending(unicast.queueId, { limit: 10 })).length > 0; i++) {
      assert.ok(i < 100, "the acknowledged message is deleted");
      await delay(20);
    }
  });

  it("RelaySocket: reports a cursor the relay no longer holds, and without cursorFor keeps its own place", async (t) => {
    const relay = await startTestRelay(t);
    const http = new RelayHttpClient(relay.url, crypto);
    const group = await http.createQueue({ broadcast: true });
    const held = [
      await http.send(group.sendId, envelope(512, 1)),
      await http.send(group.sendId, envelope(512, 2)),
    ];

    const stale = member(relay.url);
    t.after(() => stale.socket.close());
    stale.setCursor("AAAAAAAAAAAAAAAAAAAAAA");
    stale.socket.start([group]);
    await until(() => stale.lost.length === 1, "onCursorNotFound");
    assert.deepEqual(stale.lost, [group.queueId]);
    await until(() => stale.got.length === 2, "everything held");
    assert.deepEqual(stale.got, held);

    const own = member(relay.url, { keepCursor: false });
    t.after(() => own.socket.close());
    own.socket.start([group]);
    await until(() => own.got.length === 2, "backlog");
    const old = own.rec.current();
    old.terminate();
    await until(() => old.readyState === WebSocket.CLOSED, "close");
    const next = await http.send(group.sendId, envelope(512, 3));
    await until(() => own.got.length === 3, "after reconnect");
    await delay(100);
    assert.deepEqual(own.got, [...held, next]);
    assert.equal(subFrames(own.rec.sent).at(-1)!["msgId"], held[1], "its own last handled message");
    assert.deepEqual(own.lost, []);
  });

  it("RelaySocket: a broadcast queue added from inside onMessage is subscribed at its cursor", async (t) => {
    const relay = await startTestRelay(t);
    const http = new RelayHttpClient(relay.url, crypto);
    const direct = await http.createQueue();
    const group = await http.createQueue({ broadcast: true });
    const before = await http.send(group.sendId, envelope(512, 1));
    const joinedAt = await http.send(group.sendId, envelope(512, 2));
    const got: string[] = [];
    const rec = recordingSockets();
    const socket: RelaySocket = new RelaySocket(relay.url, crypto, {
      webSocket: rec.factory,
      // Like a client engine that learns of a group (and where its membership starts) in a 1:1 message.
      cursorFor: async (q) => (q.queueId === group.queueId ? joinedAt : undefined),
      onMessage: async (q, msgId) => {
        got.push(msgId);
        if (q.queueId === direct.queueId) await socket.addQueue(group);
      },
    });
    t.after(() => socket.close());
    socket.start([direct]);
    const invite = await http.send(direct.sendId, envelope(512, 3));
    await until(() => subFrames(rec.sent).length === 2, "group subscription");
    const after = await http.send(group.sendId, envelope(512, 4));
    await until(() => got.length === 2, "group message");
    await socket.idle();
    assert.deepEqual(got, [invite, after], "only what follows the cursor; not the earlier messages");
    assert.ok(!got.includes(before));
    assert.equal(subFrames(rec.sent)[1]!["msgId"], joinedAt);
  });
});

describe("proof of work", () => {
  const BITS = 8;
  it("is solved transparently by the core client, which reports a clear error when it will not solve", async (t) => {
    const relay = await startTestRelay(t, { config: { powBits: BITS } });
    const client = new RelayHttpClient(relay.url, crypto);
    const queue = await client.createQueue();
    const inviteId = await client.createInvite(new Uint8Array(200).fill(1));
    await client.send(queue.sendId, envelope(512));
    assert.equal((await client.fetchMessages(queue)).length, 1);
    assert.deepEqual(await client.claimInvite(inviteId), new Uint8Array(200).fill(1));

    const unwilling = new RelayHttpClient(relay.url, crypto, undefined, { pow: { maxBits: BITS - 1 } });
    await assert.rejects(
      unwilling.createQueue(),
      (e: unknown) => e instanceof RelayError && e.code === "pow_failed" && /at most 7/.test(e.message),
    );
  });
});

describe("relay client: batch sends", () => {
  it("sends several envelopes in one request, and a batch the relay finds too large one by one", async (t) => {
    const relay = await startTestRelay(t, { config: { maxMessageBytes: 4096 } });
    const client = new RelayHttpClient(relay.url, crypto);
    const q = await client.createQueue();
    const small = [envelope(512, 1), envelope(512, 2), envelope(512, 3)];
    const sent = await client.sendBatch(small.map((body) => ({ sendId: q.sendId, body })));
    assert.equal(sent.msgIds.length, 3);
    assert.equal(sent.refused, undefined);
    // Three 2 KiB envelopes: each within the relay's 4 KiB limit, together beyond it.
    const large = [envelope(2048, 4), envelope(2048, 5), envelope(2048, 6)];
    const split = await client.sendBatch(large.map((body) => ({ sendId: q.sendId, body })));
    assert.equal(split.msgIds.length, 3, "sent one by one");
    const fetched = await client.fetchMessages(q);
    assert.deepEqual(
      fetched.map((m) => m.msgId),
      [...sent.msgIds, ...split.msgIds],
    );
    assert.deepEqual(
      fetched.map((m) => m.body[4]),
      [1, 2, 3, 4, 5, 6],
    );
    // A refusal ends the batch there, as the RelayError a single send would have thrown.
    const refused = await client.sendBatch([
      { sendId: q.sendId, body: envelope(512, 7) },
      { sendId: "AAAAAAAAAAAAAAAAAAAAAA", body: envelope(512, 8) },
      { sendId: q.sendId, body: envelope(512, 9) },
    ]);
    assert.equal(refused.msgIds.length, 1);
    assert.ok(refused.refused instanceof RelayError);
    assert.equal(refused.refused.code, "unknown_queue");
    assert.equal(refused.refused.status, 404);
  });
});

describe("relay client: batched acks", () => {
  it("RelaySocket acknowledges a burst with one unsigned session ack, and the relay deletes it all", async (t) => {
    const relay = await startTestRelay(t);
    const http = new RelayHttpClient(relay.url, crypto);
    const q = await http.createQueue();
    const sent: string[] = [];
    for (let i = 0; i < 6; i++) sent.push(await http.send(q.sendId, envelope(512, i + 1)));
    // The burst waits for one durability barrier, as a client's store would make it.
    let durable: () => void = () => {};
    const barrier = new Promise<void>((resolve) => {
      durable = resolve;
    });
    const m = member(relay.url, { beforeAck: () => barrier });
    t.after(() => m.socket.close());
    m.socket.start([q]);
    await until(() => m.got.length === 6, "the burst");
    durable();
    await until(() => ackFrames(m.rec.sent).length > 0, "the ack");
    for (let i = 0; (await relay.store.fetchPending(q.queueId, { limit: 10 })).length > 0; i++) {
      assert.ok(i < 100, "every acknowledged message is deleted");
      await delay(20);
    }
    const acks = ackFrames(m.rec.sent);
    assert.equal(acks.length, 1, "one frame for the burst");
    assert.deepEqual(acks[0]!["msgIds"], sent);
    assert.equal("sig" in acks[0]!, false, "unsigned: the connection's sub is the proof");
    await delay(50);
    assert.deepEqual(m.errors, [], "the relay accepted it");
  });

  it("RelayHttpClient.ackMany acknowledges with one signed request, and names what the relay no longer held", async (t) => {
    const relay = await startTestRelay(t);
    const http = new RelayHttpClient(relay.url, crypto);
    const q = await http.createQueue();
    const ids = [await http.send(q.sendId, envelope(512, 1)), await http.send(q.sendId, envelope(512, 2))];
    const requests: string[] = [];
    const counting = new RelayHttpClient(relay.url, crypto, (async (
      url: string | URL | Request,
      init?: RequestInit,
    ) => {
      requests.push(String(url));
      return fetch(url, init);
    }) as typeof fetch);
    assert.deepEqual(await counting.ackMany(q, [ids[0]!, ids[1]!, "AAAAAAAAAAAAAAAAAAAAAA"]), [
      "AAAAAAAAAAAAAAAAAAAAAA",
    ]);
    assert.equal(requests.length, 1, "one request");
    assert.equal((await http.fetchMessages(q)).length, 0);
    assert.deepEqual(await http.ackMany(q, ids), ids, "already gone: no error");
  });

  it("RelayHttpClient.ackMany falls back to one signed ack per message on a relay that predates msgIds", async (t) => {
    const relay = await startTestRelay(t);
    const http = new RelayHttpClient(relay.url, crypto);
    const q = await http.createQueue();
    const ids = [await http.send(q.sendId, envelope(512, 1)), await http.send(q.sendId, envelope(512, 2))];
    const batches: string[] = [];
    // An older relay: a command with `msgIds` and no `msgId` is "ack needs a msgId" (400).
    const old = new RelayHttpClient(relay.url, crypto, (async (
      url: string | URL | Request,
      init?: RequestInit,
    ) => {
      const body = typeof init?.body === "string" ? (JSON.parse(init.body) as Record<string, unknown>) : {};
      if (body["msgIds"] !== undefined) {
        batches.push(String(url));
        return new Response(JSON.stringify({ code: "bad_request", error: "ack needs a msgId" }), {
          status: 400,
          headers: { "content-type": "application/json" },
        });
      }
      return fetch(url, init);
    }) as typeof fetch);
    assert.deepEqual(await old.ackMany(q, [ids[0]!, "AAAAAAAAAAAAAAAAAAAAAA"]), ["AAAAAAAAAAAAAAAAAAAAAA"]);
    assert.deepEqual(await old.ackMany(q, [ids[1]!]), []);
    assert.equal(batches.length, 1, "tried once, then one by one");
    assert.equal((await http.fetchMessages(q)).length, 0);
  });
});
