/**
 * Nothing leaves the device before what it depends on is durable (KeyValueStore.durable): a sealed
 * message goes to the relay only after the write that moved its ratchet is durable, and a received
 * message is acknowledged (then deleted by the relay) only after the write that stored it is — over
 * HTTP (sync) and over the WebSocket (listen). The store here holds every `durable` at a gate the
 * test opens: until then, nothing that depends on a write may leave.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import WebSocket from "ws";
import type { ClientEvent } from "../src/client/events.js";
import { ParleyClient } from "../src/client/parley-client.js";
import type { WebSocketLike } from "../src/relay-client/relay-socket.js";
import { MemoryKeyValueStore } from "../src/storage/memory-store.js";
import { connect, crypto, engine, relayForThisFile } from "./helpers/people.js";

const relay = relayForThisFile();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A memory store whose `durable` waits at a gate while it is closed (an fsync that takes its time). */
class GatedStore extends MemoryKeyValueStore {
  private open: Promise<void> = Promise.resolve();
  private release: () => void = () => {};
  waits = 0;
  close_(): void {
    this.open = new Promise((r) => {
      this.release = r;
    });
  }
  open_(): void {
    this.release();
    this.open = Promise.resolve();
  }
  override async durable(): Promise<void> {
    this.waits++;
    await this.open;
  }
}

function person() {
  const store = new GatedStore();
  const sent: string[] = []; // "POST /v1/send/…" and "ack" as they leave
  const fetchImpl: typeof fetch = async (input, init) => {
    sent.push(`${init?.method ?? "GET"} ${new URL(String(input)).pathname}`);
    return fetch(input, init);
  };
  const webSocket = (url: string): WebSocketLike => {
    const ws = new WebSocket(url);
    const send = ws.send.bind(ws);
    ws.send = ((data: string) => {
      if ((JSON.parse(data) as { cmd?: string }).cmd === "ack") sent.push("ws ack");
      send(data);
    }) as typeof ws.send;
    return ws as unknown as WebSocketLike;
  };
  return { store, sent, client: new ParleyClient({ store, crypto, engine, fetch: fetchImpl, webSocket }) };
}

it("a sealed message waits for durability before it goes to the relay", { timeout: 30_000 }, async () => {
  const alice = person();
  const bob = person();
  await alice.client.init("Alice", relay.url);
  await bob.client.init("Bob", relay.url);
  await connect(alice.client, bob.client);

  alice.store.close_();
  const before = alice.sent.length;
  const sending = alice.client.send("Bob", "held at the gate");
  await sleep(300);
  assert.deepEqual(alice.sent.slice(before), [], "a request left before the sealing write was durable");
  alice.store.open_();
  assert.equal((await sending).status, "sent");
  assert.ok(alice.sent.slice(before).some((r) => r.startsWith("POST /v1/send/")));

  // Received by sync: the acknowledgement (HTTP) waits in the same way.
  bob.store.close_();
  const syncing = bob.client.sync();
  await sleep(300);
  assert.equal(bob.sent.filter((r) => r === "POST /v1/queues/command").length > 0, true, "fetched");
  const acksBefore = bob.sent.length;
  await sleep(200);
  assert.equal(bob.sent.length, acksBefore, "an ack left before the stored message was durable");
  bob.store.open_();
  await syncing;
});

it("listen acknowledges a pushed message only once it is durable", {
  timeout: 30_000,
}, async () => {
  const alice = person();
  const bob = person();
  await alice.client.init("Alice", relay.url);
  await bob.client.init("Bob", relay.url);
  await connect(alice.client, bob.client);

  const got: string[] = [];
  const stop = new AbortController();
  const listening = bob.client.listen((e: ClientEvent) => {
    if (e.type === "message") got.push(e.message.text);
  }, stop.signal);
  const acks = () => bob.sent.filter((r) => r === "ws ack").length;
  try {
    await sleep(300);
    bob.store.close_();
    for (let i = 0; i < 5; i++) await alice.client.send("Bob", `pushed ${i}`);
    const end = Date.now() + 10_000;
    while (got.length === 0 && Date.now() < end) await sleep(20);
    // Handled (and stored) while durability waits; not acknowledged. (How many more are handled
    // meanwhile depends on the receipt, which waits for durability too, holding the profile lock.)
    assert.ok(got.length >= 1);
    await sleep(200);
    assert.equal(acks(), 0, "acked before durable");
    bob.store.open_();
    const until = Date.now() + 10_000;
    while ((got.length < 5 || acks() < 5) && Date.now() < until) await sleep(20);
    assert.equal(got.length, 5);
    assert.equal(acks(), 5);
  } finally {
    bob.store.open_();
    stop.abort();
    await listening;
  }
});
