/**
 * Queues that vanish from the relay (the TTL passed while a device was away, or the relay lost
 * them): a sync never aborts on a follow-up that cannot be sent, so what was received is shown;
 * a device whose 1:1 queue is gone makes a new one and the conversation carries on; an expired
 * group cursor is reported once, not on every sync.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { ClientEvent, ParleyClient } from "@parley/core";
import { type RunningRelay, startRelay } from "@parley/server";
import Database from "better-sqlite3";
import { newMemoryClient, said, warnings } from "./engine-helpers.js";
import { tempDir } from "./helpers.js";

let relay: RunningRelay;
const dataDir = tempDir("lifetime-relay");
let alice: ParleyClient;
let bob: ParleyClient;

const newClient = newMemoryClient;

/** What the relay's expiry does to a device's queue while it is away. */
async function expireReceiveQueue(client: ParleyClient, contact: string) {
  const conversation = await client.findConversation(contact);
  assert.ok(await relay.store.deleteQueue(conversation.receive.queueId));
}

before(async () => {
  relay = await startRelay({ port: 0, dataDir });
  alice = newClient();
  bob = newClient();
  await alice.init("Alice", relay.url);
  await bob.init("Bob", relay.url);
  const { link } = await alice.createInvite();
  await bob.acceptInvite(link);
  await alice.sync();
  await bob.sync();
});
after(async () => {
  await relay?.close();
});

test("a receipt that cannot be sent does not abort the sync: the message is shown", async () => {
  await bob.send("Alice", "are you there?");
  await expireReceiveQueue(bob, "Alice"); // Alice's receipt has nowhere to go
  const events = await alice.sync();
  assert.deepEqual(said(events), ["Bob: are you there?"]);
  assert.deepEqual(warnings(events), ["followup_failed"]);
  assert.deepEqual(said(await alice.sync()), [], "shown once");
});

test("a device whose 1:1 queue vanished makes a new one, and the conversation carries on", async () => {
  // Bob's queue is gone (previous test). Coming back, his sync notices and renews it.
  const before = await bob.findConversation("Alice");
  const events = await bob.sync();
  assert.deepEqual(warnings(events), ["queue_renewed"]);
  const after = await bob.findConversation("Alice");
  assert.notEqual(after.receive.queueId, before.receive.queueId);
  assert.deepEqual(warnings(await bob.sync()), [], "renewed once");

  await alice.sync(); // the new address, inside the encryption
  await alice.send("Bob", "welcome back");
  assert.deepEqual(said(await bob.sync()), ["Alice: welcome back"]);
  await bob.send("Alice", "thanks");
  assert.deepEqual(said(await alice.sync()), ["Bob: thanks"]);
  await bob.sync(); // Alice's receipt now reaches Bob
  const history = await bob.messages("Alice");
  assert.equal(history.find((m) => m.text === "thanks")?.status, "delivered");
});

test("group messages that expired before a device read them are reported once", async () => {
  await alice.createGroup("Expiring");
  await alice.addToGroup("Expiring", ["Bob"]);
  await bob.sync();
  await alice.send("Expiring", "one");
  assert.deepEqual(said(await bob.sync()), ["Alice: one"]);
  // The messages expire (a broadcast message leaves only by expiry) while the queue lives on.
  const db = new Database(join(dataDir, "relay.sqlite"));
  db.prepare("DELETE FROM messages").run();
  db.close();
  const rejected = (events: ClientEvent[]) => events.filter((e) => e.type === "rejected");
  assert.equal(rejected(await bob.sync()).length, 1, "Bob learns that messages expired");
  assert.equal(rejected(await bob.sync()).length, 0, "and is not told again on every sync");
  await alice.send("Expiring", "two");
  assert.deepEqual(said(await bob.sync()), ["Alice: two"]);
});

test("a group whose queue vanished meets again on a queue every member derives by itself", async () => {
  const carol = newClient();
  await carol.init("Carol", relay.url);
  const { link } = await alice.createInvite();
  await carol.acceptInvite(link);
  await alice.sync();
  await carol.sync();
  await alice.createGroup("Hikers");
  await alice.addToGroup("Hikers", ["Bob", "Carol"]);
  await bob.sync();
  await carol.sync();
  await alice.send("Hikers", "before");
  await bob.sync();
  await carol.sync();
  // Everyone was away for longer than the TTL: the group's queue is gone from the relay.
  const old = await alice.findConversation("Hikers");
  assert.ok(await relay.store.deleteQueue(old.receive.queueId));

  // Bob comes back first and writes; nobody could tell him where the group went.
  await bob.send("Hikers", "anyone still here?");
  const moved = await bob.findConversation("Hikers");
  assert.notEqual(moved.receive.queueId, old.receive.queueId);
  // Alice and Carol come back later and find the same queue by themselves.
  const aliceEvents = await alice.sync();
  assert.ok(warnings(aliceEvents).includes("queue_renewed"));
  assert.deepEqual(said(aliceEvents), ["Bob: anyone still here?"]);
  assert.deepEqual(said(await carol.sync()), ["Bob (not a contact): anyone still here?"]);
  assert.equal((await carol.findConversation("Hikers")).receive.queueId, moved.receive.queueId);
  await carol.send("Hikers", "yes");
  assert.deepEqual(said(await alice.sync()), ["Carol: yes"]);
  assert.deepEqual(said(await bob.sync()), ["Carol (not a contact): yes"]);
});
