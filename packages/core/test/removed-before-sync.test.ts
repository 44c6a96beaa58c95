/**
 * A person added to a group and removed again before their device synced (issue 14): their sync
 * must not fail ("the group state of this conversation is missing"), and they are told what happened.
 */
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { type RunningRelay, startRelay } from "@parley/server";
import type { ClientEvent } from "../src/client/events.js";
import { ParleyClient } from "../src/client/parley-client.js";
import { nodeCryptoProvider as crypto } from "../src/crypto/node-provider.js";
import { TsMlsEngine } from "../src/mls/ts-mls-engine.js";
import { MemoryKeyValueStore } from "../src/storage/memory-store.js";

let relay: RunningRelay;
before(async () => {
  relay = await startRelay({ port: 0 });
});
after(async () => {
  await relay?.close();
});

const engine = new TsMlsEngine(crypto);
async function person(name: string) {
  const client = new ParleyClient({ store: new MemoryKeyValueStore(), crypto, engine });
  await client.init(name, relay.url);
  return client;
}

it("a member removed before their first sync is told, and their sync succeeds", async () => {
  const alice = await person("Alice");
  const bob = await person("Bob");
  const carol = await person("Carol");
  for (const other of [bob, carol]) {
    const { link } = await alice.createInvite();
    await other.acceptInvite(link);
    await alice.sync();
    await other.sync();
  }
  await alice.createGroup("Plans");
  await alice.addToGroup("Plans", ["Bob", "Carol"]);
  await alice.removeFromGroup("Plans", ["Bob"]);
  await alice.send("Plans", "Bob is not here");
  const events: ClientEvent[] = await bob.sync();
  assert.deepEqual(
    events.map((e) => (e.type === "group" ? `group ${e.change}` : e.type)),
    ["group joined", "group removed"],
    "joined, then told he was removed; no warning, no failure",
  );
  const plans = (await bob.conversations()).find((c) => c.name === "Plans");
  assert.equal(plans?.status, "removed");
  assert.equal(plans?.canSend, false);
  const carolEvents = await carol.sync();
  assert.ok(carolEvents.some((e) => e.type === "message" && e.message.text === "Bob is not here"));
});
