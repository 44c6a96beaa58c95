/**
 * The outbox (client/outbox-delivery.ts), in process against a real relay, with the network
 * between the sender and the relay under the test's control: down, or "lost answer" (the request
 * reaches the relay, the reply never comes back). Nothing the user sent is lost, nothing arrives
 * twice, nothing is refused as tampered.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ClientEvent } from "../src/client/events.js";
import { ParleyClient } from "../src/client/parley-client.js";
import { splitSendBatch } from "../src/protocol/relay.js";
import type { FetchLike } from "../src/relay-client/relay-http.js";
import { MemoryKeyValueStore } from "../src/storage/memory-store.js";
import {
  connect,
  crypto,
  engine,
  person as newPerson,
  eventsOf as of,
  relayForThisFile,
} from "./helpers/people.js";

const relay = relayForThisFile();

/** A network the test can cut: "up", "down" (nothing reaches the relay), "lose-answers" (sends reach it, replies are lost). */
class Network {
  mode: "up" | "down" | "lose-answers" = "up";
  sendsThatReachedTheRelay = 0;
  /** Each send request's envelope count (1 for `/v1/send/…`, the batch's for `/v1/send-batch`). */
  readonly sendRequests: number[] = [];
  /** While set, send requests wait for it before they go. */
  gate: Promise<void> | undefined;
  readonly fetch: FetchLike = async (input, init) => {
    if (this.mode === "down") throw new TypeError("fetch failed (network down in this test)");
    const isSend = String(input).includes("/v1/send");
    if (isSend) {
      const batch = String(input).includes("/v1/send-batch") && splitSendBatch(init?.body as Uint8Array);
      this.sendRequests.push(batch ? batch.length : 1);
      await this.gate;
    }
    const res = await fetch(input, init);
    if (isSend) this.sendsThatReachedTheRelay++;
    if (this.mode === "lose-answers" && isSend) {
      await res.arrayBuffer();
      throw new TypeError("fetch failed (answer lost in this test)");
    }
    return res;
  };
}

const person = (name: string, network?: Network, store = new MemoryKeyValueStore()) =>
  newPerson(name, relay.url, { store, ...(network ? { fetch: network.fetch } : {}) });

const texts = (events: ClientEvent[]) => of(events, "message").map((e) => e.message.text);

describe("outbox", () => {
  it("keeps a message sent while the relay is unreachable, and sends it once it is back", async () => {
    const net = new Network();
    const alice = await person("Alice", net);
    const bob = await person("Bob");
    await connect(alice.client, bob.client);

    net.mode = "down";
    const first = await alice.client.send("Bob", "written offline 1");
    const second = await alice.client.send("Bob", "written offline 2");
    assert.equal(first.status, "sending");
    assert.equal(second.status, "sending");
    const history = await alice.client.messages("Bob");
    assert.deepEqual(
      history.slice(-2).map((m) => [m.text, m.status]),
      [
        ["written offline 1", "sending"],
        ["written offline 2", "sending"],
      ],
    );
    // Still down: a sync tries, and keeps them (and does not throw for the outbox).
    await alice.client.sync().catch(() => {});
    assert.deepEqual(texts(await bob.client.sync()), []);

    net.mode = "up";
    const events = await alice.client.sync();
    assert.deepEqual(
      of(events, "sent").flatMap((e) => e.ids),
      [first.id, second.id],
    );
    assert.deepEqual(
      (await alice.client.messages("Bob")).slice(-2).map((m) => m.status),
      ["sent", "sent"],
    );
    // In order, once each.
    assert.deepEqual(texts(await bob.client.sync()), ["written offline 1", "written offline 2"]);
    assert.deepEqual(texts(await bob.client.sync()), []);
  });

  it("what queued up while the relay was away goes in one request, in order", async () => {
    const net = new Network();
    const alice = await person("Alice", net);
    const bob = await person("Bob");
    await connect(alice.client, bob.client);
    net.mode = "down";
    for (let i = 1; i <= 5; i++) await alice.client.send("Bob", `queued ${i}`);
    net.mode = "up";
    net.sendRequests.length = 0;
    const events = await alice.client.sync();
    assert.equal(of(events, "sent").flatMap((e) => e.ids).length, 5);
    assert.deepEqual(net.sendRequests, [5], "one batch send of five");
    assert.deepEqual(
      texts(await bob.client.sync()),
      [1, 2, 3, 4, 5].map((i) => `queued ${i}`),
    );
  });

  it("a send that does not wait: stored at once, and what is sealed during a request goes in the next batch", async () => {
    const net = new Network();
    const alice = await person("Alice", net);
    const bob = await person("Bob");
    await connect(alice.client, bob.client);
    net.sendRequests.length = 0;
    let open = () => {};
    net.gate = new Promise<void>((r) => (open = r));
    const first = await alice.client.send("Bob", "one", { wait: false });
    assert.equal(first.status, "sending");
    // The first request is held at the gate; sealing and storing the next ones does not wait for it.
    const rest = [];
    for (const text of ["two", "three", "four"])
      rest.push(await alice.client.send("Bob", text, { wait: false }));
    assert.deepEqual(
      rest.map((m) => m.status),
      ["sending", "sending", "sending"],
    );
    assert.deepEqual(net.sendRequests, [1]);
    net.gate = undefined;
    open();
    await alice.client.settleOutbox();
    assert.deepEqual(net.sendRequests, [1, 3], "the three sealed meanwhile went together");
    assert.deepEqual(
      (await alice.client.messages("Bob")).slice(-4).map((m) => [m.text, m.status]),
      [
        ["one", "sent"],
        ["two", "sent"],
        ["three", "sent"],
        ["four", "sent"],
      ],
    );
    assert.deepEqual(texts(await bob.client.sync()), ["one", "two", "three", "four"]);
  });

  it("messages sealed within one millisecond keep the order they were written in, here and at the contact", async () => {
    // A clock that never moves: every message would carry the same time, and their order keys
    // (time, then a random id) would order them at random. Sealing times are strictly increasing.
    const frozen = () => 1_800_000_000_000;
    const alice = await newPerson("Alice", relay.url, { now: frozen });
    const bob = await person("Bob");
    await connect(alice.client, bob.client);
    const written = Array.from({ length: 12 }, (_, i) => `m${i}`);
    for (const text of written) await alice.client.send("Bob", text, { wait: false });
    await alice.client.settleOutbox();
    const mine = (await alice.client.messages("Bob")).map((m) => m.text);
    assert.deepEqual(mine.slice(-written.length), written);
    assert.deepEqual(texts(await bob.client.sync()), written);
    const theirs = (await bob.client.messages("Alice")).map((m) => m.text);
    assert.deepEqual(theirs.slice(-written.length), written);
  });

  it("survives a restart of the client: a new client on the same store sends what waited", async () => {
    const net = new Network();
    const alice = await person("Alice", net);
    const bob = await person("Bob");
    await connect(alice.client, bob.client);
    net.mode = "down";
    await alice.client.send("Bob", "before the crash");
    // The process is gone; a new one opens the same profile with the network back.
    const reopened = new ParleyClient({ store: alice.store, crypto, engine });
    const events = await reopened.sync();
    assert.equal(of(events, "sent").length, 1);
    assert.deepEqual(texts(await bob.client.sync()), ["before the crash"]);
  });

  it("a retry of a send whose answer was lost reaches the contact once, with no rejection", async () => {
    const net = new Network();
    const alice = await person("Alice", net);
    const bob = await person("Bob");
    await connect(alice.client, bob.client);
    net.mode = "lose-answers";
    const sent = await alice.client.send("Bob", "did it arrive?");
    assert.equal(sent.status, "sending");
    assert.equal(net.sendsThatReachedTheRelay > 0, true);
    net.mode = "up";
    await alice.client.sync(); // the retry: a second copy on the relay
    const events = await bob.client.sync();
    assert.deepEqual(texts(events), ["did it arrive?"]);
    assert.deepEqual(of(events, "rejected"), []);
  });

  it("in a group: a message kept while offline reaches every member once; our own echo is no rejection", async () => {
    const net = new Network();
    const alice = await person("Alice", net);
    const bob = await person("Bob");
    const carol = await person("Carol");
    await connect(alice.client, bob.client);
    await connect(alice.client, carol.client);
    await alice.client.createGroup("Trip");
    await alice.client.addToGroup("Trip", ["Bob", "Carol"]);
    await bob.client.sync();
    await carol.client.sync();
    await alice.client.sync();

    net.mode = "lose-answers";
    const m = await alice.client.send("Trip", "offline in the group");
    assert.equal(m.status, "sending");
    net.mode = "up";
    const aliceEvents = await alice.client.sync();
    assert.equal(of(aliceEvents, "sent").length, 1);
    assert.deepEqual(of(aliceEvents, "rejected"), []);
    for (const member of [bob, carol]) {
      const events = await member.client.sync();
      assert.deepEqual(texts(events), ["offline in the group"]);
      assert.deepEqual(of(events, "rejected"), []);
    }
    assert.deepEqual(of(await alice.client.sync(), "rejected"), []);
  });
});
