/**
 * Disappearing-messages rules a modified client cannot get around (issue 13): in a group only an
 * admin's timer counts (a member's is rejected as `expire_not_admin` on every device), and of two
 * changes the one stamped later wins, whatever order they arrive in.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { ParleyClient } from "../src/client/parley-client.js";
import { MemoryKeyValueStore } from "../src/storage/memory-store.js";
import { connect, crypto, engine, eventsOf, person, relayForThisFile } from "./helpers/people.js";

const relay = relayForThisFile();

/** The part of a client a modified client calls directly. */
const modified = (c: ParleyClient) =>
  c as unknown as { sendBodyUnchecked(to: string, body: unknown, id?: string): Promise<unknown> };

const timerOf = async (c: ParleyClient, name: string) =>
  (await c.conversations()).find((v) => v.name === name)?.expireAfter ?? null;

it("a member who is not an admin cannot set a group's timer, even with a modified client", async () => {
  const alice = (await person("Alice", relay.url)).client;
  const bob = (await person("Bob", relay.url)).client;
  await connect(alice, bob);
  await alice.createGroup("Walks");
  await alice.addToGroup("Walks", ["Bob"]);
  await bob.sync();
  await assert.rejects(bob.setExpiry("Walks", 30), { code: "not_admin" });
  await modified(bob).sendBodyUnchecked("Walks", { type: "expire", seconds: 30 });
  const seen = await alice.sync();
  assert.deepEqual(
    eventsOf(seen, "rejected").map((e) => e.reason),
    ["expire_not_admin"],
  );
  assert.equal(await timerOf(alice, "Walks"), null);
  // The admin's counts.
  await alice.setExpiry("Walks", 3600);
  assert.equal(eventsOf(await bob.sync(), "expire")[0]?.seconds, 3600);
  assert.equal(await timerOf(bob, "Walks"), 3600);
});

it("of two changes, the later-stamped one wins on both sides, whichever arrives last", async () => {
  let now = Date.now();
  const at = async (name: string, skew: number) => {
    const client = new ParleyClient({
      store: new MemoryKeyValueStore(),
      crypto,
      engine,
      now: () => now + skew,
    });
    await client.init(name, relay.url);
    return client;
  };
  const alice = await at("Alice", 0);
  const bob = await at("Bob", -10); // Bob's clock is 10 ms behind
  await connect(alice, bob);
  now += 1000;
  await alice.setExpiry("Bob", 86_400); // stamped now
  await bob.setExpiry("Alice", 30); // stamped 10 ms earlier than Alice's, sent after it
  await alice.sync();
  await bob.sync();
  assert.equal(await timerOf(alice, "Bob"), 86_400);
  assert.equal(await timerOf(bob, "Alice"), 86_400);
});
