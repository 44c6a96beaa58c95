/**
 * Key updates: `rekeyGroup` on demand, and the schedule (7 days or 1,000 messages, jittered) that
 * makes every member's client commit a fresh UpdatePath by itself.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { KEY_UPDATE_MS } from "../src/client/groups/key-schedule.js";
import { ParleyClient } from "../src/client/parley-client.js";
import { MemoryKeyValueStore } from "../src/storage/memory-store.js";
import { groupView } from "./helpers/group-view.js";
import { connect, crypto, engine, person, relayForThisFile } from "./helpers/people.js";

const relay = relayForThisFile();

it("rekey on demand: a new epoch with new secrets, the same members, followed by all", async () => {
  const alice = await person("Alice", relay.url);
  const bob = await person("Bob", relay.url);
  await connect(alice.client, bob.client);
  await alice.client.createGroup("Keys");
  await alice.client.addToGroup("Keys", ["Bob"]);
  await bob.client.sync();
  const before = await groupView(bob.store, "Keys");
  await bob.client.rekeyGroup("Keys"); // not an admin: anyone may refresh their own keys
  await alice.client.sync();
  const after = await groupView(alice.store, "Keys");
  assert.equal(after?.epoch, before!.epoch + 1n);
  assert.notEqual(after?.authenticator, before!.authenticator);
  assert.deepEqual(after, await groupView(bob.store, "Keys"));
});

it("the schedule: a member whose last key update is over 7 days old commits one on its next sync", async () => {
  let clock = Date.now();
  const store = new MemoryKeyValueStore();
  const bobClient = new ParleyClient({ store, crypto, engine, now: () => clock });
  await bobClient.init("Bob", relay.url);
  const alice = await person("Alice", relay.url);
  await connect(alice.client, bobClient);
  await alice.client.createGroup("Weekly");
  await alice.client.addToGroup("Weekly", ["Bob"]);
  await bobClient.sync();
  const start = (await groupView(store, "Weekly"))!.epoch;
  clock += KEY_UPDATE_MS / 2;
  await bobClient.sync();
  assert.equal((await groupView(store, "Weekly"))!.epoch, start, "not due yet");
  clock += KEY_UPDATE_MS / 2 + 1;
  await bobClient.sync();
  assert.equal((await groupView(store, "Weekly"))!.epoch, start + 1n, "due: one key update");
  await bobClient.sync();
  assert.equal((await groupView(store, "Weekly"))!.epoch, start + 1n, "and a new round starts");
  await alice.client.sync();
  assert.deepEqual(await groupView(alice.store, "Weekly"), await groupView(store, "Weekly"));
});
