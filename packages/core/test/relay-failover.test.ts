/**
 * A relay served by several nodes (two relays in this process on one store and one bus, as a
 * cluster's nodes share PostgreSQL and NATS): the core client's requests and WebSocket fail over to
 * another node when theirs is gone, and a message sent through one node reaches a socket on another.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LocalBus, SqliteStore, startRelay } from "@parley/server";
import { WebSocket } from "ws";
import { RelayError, RelayHttpClient, RelaySocket, type WebSocketLike } from "../src/index.js";
import { nodeCryptoProvider as crypto } from "../src/node.js";
import { delay, envelope } from "./helpers/relay.js";

async function twoNodes(t: { after: (fn: () => Promise<void> | void) => void }) {
  const store = SqliteStore.open(":memory:");
  const bus = new LocalBus();
  const a = await startRelay({ store, bus });
  const b = await startRelay({ store, bus });
  t.after(async () => {
    await a.close();
    await b.close();
    await store.close();
  });
  return { a, b };
}

async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await delay(10);
  }
}

describe("relay client: failover between a relay's nodes", () => {
  it("RelayHttpClient sends once more on a new connection when its node closed the one it reused", async (t) => {
    const { a } = await twoNodes(t);
    let calls = 0;
    let closed = 0;
    // The first command dies as a kept-alive connection the node closed would (undici's own error).
    const flaky = (async (input: string | URL | Request, init?: RequestInit) => {
      calls++;
      if (closed++ === 0)
        throw new TypeError("fetch failed", {
          cause: { code: "UND_ERR_SOCKET", message: "other side closed" },
        });
      return fetch(input, init);
    }) as typeof fetch;
    const http = new RelayHttpClient(a.url, crypto, flaky);
    const queue = await http.createQueue();
    assert.equal(calls, 2, "sent again once");
    await http.send(queue.sendId, envelope(512, 1));
    assert.equal((await http.fetchMessages(queue)).length, 1);
    // A refused connection is no such case: it fails (there is no other node) without a second try.
    let refused = 0;
    const down = new RelayHttpClient(a.url, crypto, (async () => {
      refused++;
      throw new TypeError("fetch failed", { cause: { code: "ECONNREFUSED" } });
    }) as typeof fetch);
    await assert.rejects(down.send(queue.sendId, envelope(512, 2)), RelayError);
    assert.equal(refused, 1);
  });

  it("RelayHttpClient sends to the next node when its node is unreachable or answers 503, and stays there", async (t) => {
    const { a, b } = await twoNodes(t);
    const calls: string[] = [];
    const fetchVia = (down: Set<string>, busy: Set<string>): typeof fetch =>
      (async (input: string | URL | Request, init?: RequestInit) => {
        const url = String(input);
        calls.push(new URL(url).origin);
        if (down.has(new URL(url).origin)) throw new TypeError("fetch failed");
        if (busy.has(new URL(url).origin)) return new Response("{}", { status: 503 });
        return fetch(input, init);
      }) as typeof fetch;
    const down = new Set([a.url]);
    const http = new RelayHttpClient(a.url, crypto, fetchVia(down, new Set()), { alternates: [b.url] });
    const queue = await http.createQueue();
    assert.equal(queue.relay, a.url, "credentials keep naming the relay's own URL");
    await http.send(queue.sendId, envelope(512, 1));
    assert.deepEqual(calls, [a.url, b.url, b.url], "to b after a failed, then straight to b");
    const [m] = await http.fetchMessages(queue);
    assert.ok(m);

    const busy = new RelayHttpClient(a.url, crypto, fetchVia(new Set(), new Set([a.url])), {
      alternates: [b.url],
    });
    await busy.send(queue.sendId, envelope(512, 2));
    const none = new RelayHttpClient(a.url, crypto, fetchVia(new Set([a.url, b.url]), new Set()), {
      alternates: [b.url],
    });
    await assert.rejects(none.send(queue.sendId, envelope(512, 3)), (e: unknown) => {
      assert.ok(e instanceof RelayError && e.code === "network");
      assert.match(e.message, /any node of relay/);
      return true;
    });
  });

  it("RelaySocket moves to another node when its node goes away, subscribes there, and gets what follows", async (t) => {
    const { a, b } = await twoNodes(t);
    const http = new RelayHttpClient(b.url, crypto);
    const queue = await http.createQueue();
    const got: number[] = [];
    const urls: string[] = [];
    const socket = new RelaySocket(a.url, crypto, {
      webSocket: (url) => {
        urls.push(new URL(url).port);
        return new WebSocket(url) as unknown as WebSocketLike;
      },
      alternates: [b.url],
      onMessage: async (_q, msgId, body) => {
        got.push(body[10]!);
        await http.ack(queue, msgId);
      },
      maxBackoffMs: 100,
    });
    t.after(() => socket.close());
    socket.start([{ ...queue, relay: a.url }]);
    await http.send(queue.sendId, new Uint8Array(envelope(512, 1)));
    await until(() => got.length === 1, "the first message, through node a");
    await a.close();
    await until(() => urls.length >= 2, "a reconnect");
    await delay(100);
    await http.send(queue.sendId, envelope(512, 2));
    await until(() => got.length === 2, "the second message, through node b");
    assert.deepEqual(got, [1, 2]);
    assert.deepEqual(urls.slice(0, 2), [String(a.port), String(b.port)]);
  });

  it("RelaySocket leaves a node that stops answering (a link cut without a close): pings, then the next node", async (t) => {
    const { a, b } = await twoNodes(t);
    const http = new RelayHttpClient(b.url, crypto);
    const queue = await http.createQueue();
    const got: number[] = [];
    const urls: string[] = [];
    let silenced: WebSocket | undefined;
    const sockets: WebSocket[] = [];
    const socket = new RelaySocket(a.url, crypto, {
      // What a cut link looks like from here: the connection stays open, nothing comes or goes.
      webSocket: (url) => {
        urls.push(new URL(url).port);
        const ws = new WebSocket(url);
        sockets.push(ws);
        const like = {
          get readyState() {
            return ws.readyState;
          },
          set binaryType(v: string) {
            ws.binaryType = v as "arraybuffer";
          },
          // Pings go out with a field this relay refuses: its `err` reply is what a relay that
          // predates ping answers, and must not count as an error.
          send: (data: string) => {
            if (silenced !== ws) ws.send(data.replace('"cmd":"ping"', '"cmd":"ping","old":1'));
          },
          close: () => ws.close(),
          terminate: () => ws.terminate(),
          onopen: null as ((ev: unknown) => void) | null,
          onclose: null as ((ev: unknown) => void) | null,
          onerror: null as ((ev: unknown) => void) | null,
          onmessage: null as ((ev: { data: unknown }) => void) | null,
        };
        ws.onopen = (ev) => like.onopen?.(ev);
        ws.onclose = (ev) => like.onclose?.(ev);
        ws.onerror = (ev) => like.onerror?.(ev);
        ws.onmessage = (ev) => {
          if (silenced !== ws) like.onmessage?.({ data: ev.data });
        };
        return like;
      },
      alternates: [b.url],
      onMessage: async (_q, msgId, body) => {
        got.push(body[10]!);
        await http.ack(queue, msgId);
      },
      pingIntervalMs: 200,
      onError: (e) => errors.push(e),
    });
    const errors: Error[] = [];
    t.after(() => socket.close());
    socket.start([{ ...queue, relay: a.url }]);
    await http.send(queue.sendId, envelope(512, 1));
    await until(() => got.length === 1, "the first message, through node a");
    await delay(500);
    assert.equal(urls.length, 1, "an idle connection that answers its pings is kept");
    assert.deepEqual(errors, [], "the replies to pings are not errors, even `err` from an older relay");
    silenced = sockets[0];
    await until(() => urls.length >= 2, "a move after two silent intervals", 3000);
    assert.equal(sockets[0]!.readyState, WebSocket.CLOSED, "the silent connection was dropped");
    await delay(100);
    await http.send(queue.sendId, envelope(512, 2));
    await until(() => got.length === 2, "the second message, through node b");
    assert.deepEqual(urls.slice(0, 2), [String(a.port), String(b.port)]);
  });
});
