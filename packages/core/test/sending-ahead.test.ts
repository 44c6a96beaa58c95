/**
 * Sending ahead (client/sending-ahead.ts), in process against a real relay: messages leave without
 * a sync to disk each, and after a power cut that takes back what the device wrote since its last
 * sync, its next message skips past every generation it may have used: nothing it sends is refused
 * as a replayed generation. An orderly close hands the reservation back (no skip after it).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ParleyClient } from "../src/client/parley-client.js";
import { AHEAD } from "../src/client/sending-ahead.js";
import { fromUtf8 } from "../src/encoding/bytes.js";
import type { KeyValueStore, KvWrite } from "../src/storage/key-value-store.js";
import { MemoryKeyValueStore } from "../src/storage/memory-store.js";
import { connect, crypto, engine, eventsOf as of, person, relayForThisFile } from "./helpers/people.js";

const relay = relayForThisFile();

/**
 * A store that loses, at a power cut, every write made since the last `durable` began (as SQLite
 * under synchronous=NORMAL loses what its WAL fsync had not covered), and counts the syncs.
 */
class PowerCutStore implements KeyValueStore {
  private synced: [string, Uint8Array][] = [];
  syncs = 0;
  constructor(readonly inner = new MemoryKeyValueStore()) {}
  get = (key: string) => this.inner.get(key);
  list = (prefix: string, options?: { limit?: number; reverse?: boolean }) =>
    this.inner.list(prefix, options);
  write = (writes: KvWrite[]) => this.inner.write(writes);
  async durable(): Promise<void> {
    this.syncs++;
    this.synced = await this.inner.list("");
  }
  close = () => this.inner.close();
  /** What the disk holds after the power comes back: a new store with the last synced writes. */
  async afterPowerCut(): Promise<PowerCutStore> {
    const back = new PowerCutStore();
    await back.inner.write(this.synced.map(([key, value]) => ({ key, value })));
    await back.durable();
    return back;
  }
}

const clientOn = (store: KeyValueStore) => new ParleyClient({ store, crypto, engine });

/** The reservation record of the only 1:1 conversation's group. */
async function reservation(store: KeyValueStore): Promise<{ epoch: string; bound: number }> {
  const [entry] = (await store.list("mls/")).filter(([k]) => k.endsWith("/ahead"));
  assert.ok(entry, "a reservation is stored");
  return JSON.parse(fromUtf8(entry[1])) as { epoch: string; bound: number };
}

describe("sending ahead", () => {
  it("sends without a sync per message, and after a power cut skips what it may have used: nothing refused", async () => {
    const store = new PowerCutStore();
    const alice = clientOn(store);
    await alice.init("Alice", relay.url);
    const bob = await person("Bob", relay.url);
    await connect(alice, bob.client);

    const before = store.syncs;
    for (let i = 1; i <= 8; i++) await alice.send("Bob", `before the cut ${i}`);
    // One sync for the reservation (the first message waits for it), not one per message.
    assert.ok(store.syncs - before <= 3, `${store.syncs - before} syncs for 8 messages`);
    const got = of(await bob.client.sync(), "message").map((e) => e.message.text);
    assert.deepEqual(
      got,
      Array.from({ length: 8 }, (_, i) => `before the cut ${i + 1}`),
    );

    // The power goes: Alice's device comes back with what was on disk at its last sync (its
    // ratchet some generations behind what it sent), in a new process.
    const back = await store.afterPowerCut();
    const again = clientOn(back);
    await again.send("Bob", "after the cut");
    const events = await bob.client.sync();
    assert.deepEqual(
      of(events, "message").map((e) => e.message.text),
      ["after the cut"],
    );
    assert.deepEqual(of(events, "rejected"), [], "no message refused as a replayed generation");
  });

  it("an orderly close hands back what it did not use: the next process goes on without a skip", async () => {
    const store = new PowerCutStore();
    const alice = clientOn(store);
    await alice.init("Alice", relay.url);
    const bob = await person("Bob", relay.url);
    await connect(alice, bob.client);
    for (let i = 1; i <= 3; i++) await alice.send("Bob", `message ${i}`);
    const reserved = await reservation(store);
    await alice.release();
    const handedBack = await reservation(store);
    assert.ok(handedBack.bound < reserved.bound, "cut back to after the last generation used");

    // The next process seals at exactly the handed-back generation: its reservation is that + 1 + AHEAD.
    const next = clientOn(store);
    await next.send("Bob", "from the next process");
    assert.equal((await reservation(store)).bound, handedBack.bound + 1 + AHEAD);
    assert.deepEqual(
      of(await bob.client.sync(), "message").map((e) => e.message.text),
      ["message 1", "message 2", "message 3", "from the next process"],
    );
  });
});
