/**
 * Group states kept decoded between operations (store/live-states.ts): a member reading a run of
 * messages decodes its state once, not once per message; a state saved by another client on the
 * same profile (a CLI command beside `listen`) is never passed over for the kept one; a group left
 * keeps nothing in memory.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { ParleyClient } from "../src/client/parley-client.js";
import type { GroupState, SerializedGroupState } from "../src/mls/engine.js";
import { Rfc9420Engine } from "../src/mls/rfc9420-engine/index.js";
import { MemoryKeyValueStore } from "../src/storage/memory-store.js";
import { connect, crypto, person, relayForThisFile } from "./helpers/people.js";

const relay = relayForThisFile();

/** Counts the states it decodes from the store. */
class CountingEngine extends Rfc9420Engine {
  loads = 0;
  override deserialize(serialized: SerializedGroupState): GroupState {
    this.loads++;
    return super.deserialize(serialized);
  }
}

async function countingPerson(name: string, store = new MemoryKeyValueStore(), init = true) {
  const engine = new CountingEngine(crypto);
  const client = new ParleyClient({ store, crypto, engine });
  if (init) await client.init(name, relay.url);
  return { client, store, engine };
}

/** Alice's group `name` with Bob in it (his engine counts decodes), Bob's copy of it joined. */
async function aliceWithBobIn(name: string) {
  const alice = await person("Alice", relay.url);
  const bob = await countingPerson("Bob");
  await connect(alice.client, bob.client);
  await alice.client.createGroup(name);
  await alice.client.addToGroup(name, ["Bob"]);
  await bob.client.sync();
  return { alice, bob };
}

it("a member reading ten messages decodes its group state at most once", async () => {
  const { alice, bob } = await aliceWithBobIn("Ten");
  for (let i = 0; i < 10; i++) await alice.client.send("Ten", `message ${i}`);
  bob.engine.loads = 0;
  await bob.client.sync();
  const texts = (await bob.client.messages("Ten")).map((m) => m.text);
  for (let i = 0; i < 10; i++) assert.ok(texts.includes(`message ${i}`));
  assert.ok(bob.engine.loads <= 1, `decoded ${bob.engine.loads} times`);
});

it("a state another client of the same profile saved since is the one used", async () => {
  const { alice, bob } = await aliceWithBobIn("Two");
  await bob.client.send("Two", "from the first client");
  // A second client on Bob's store (another process on his profile) sends and commits a key update.
  const other = await countingPerson("Bob", bob.store, false);
  await other.client.send("Two", "from the second client");
  await other.client.rekeyGroup("Two");
  // The first client still keeps the state it saved before; the store has moved on.
  bob.engine.loads = 0;
  await bob.client.send("Two", "from the first client again");
  assert.equal(bob.engine.loads, 1, "the stored state was decoded, the kept one passed over");
  await alice.client.sync();
  const texts = (await alice.client.messages("Two")).map((m) => m.text);
  for (const t of ["from the first client", "from the second client", "from the first client again"])
    assert.ok(texts.includes(t), `Alice reads "${t}" (${texts.join(" | ")})`);
});

it("a group left keeps no state in memory", async () => {
  const { bob } = await aliceWithBobIn("Gone");
  await bob.client.send("Gone", "bye");
  // The group's state and the 1:1 chat's with Alice.
  assert.equal(bob.client.repo.liveStates.size, 2, "kept while in the group");
  await bob.client.leaveGroup("Gone");
  assert.equal(bob.client.repo.liveStates.size, 1, "the group's is gone");
});

it("a stale message (sealed before a commit the queue put ahead of it) does not cost a decode", async () => {
  const alice = await person("Alice", relay.url);
  const bob = await countingPerson("Bob");
  const carol = await person("Carol", relay.url);
  for (const p of [bob, carol]) await connect(alice.client, p.client);
  await alice.client.createGroup("Late");
  await alice.client.addToGroup("Late", ["Bob", "Carol"]);
  await bob.client.sync();
  await carol.client.sync();
  await alice.client.rekeyGroup("Late");
  // Carol has not read the key update: her message is sealed in the epoch before it.
  await carol.client.send("Late", "sealed in the old epoch");
  for (let i = 0; i < 5; i++) await alice.client.send("Late", `after ${i}`);
  bob.engine.loads = 0;
  const events = await bob.client.sync();
  const texts = (await bob.client.messages("Late")).map((m) => m.text);
  for (let i = 0; i < 5; i++) assert.ok(texts.includes(`after ${i}`));
  assert.ok(!texts.includes("sealed in the old epoch"), "stale: dropped until Carol seals it again");
  assert.ok(events.length > 0);
  // Kept since Bob joined: the key update, the stale message and the five after it, none decoded.
  assert.equal(bob.engine.loads, 0, `decoded ${bob.engine.loads} times`);
});
