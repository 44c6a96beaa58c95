/**
 * Deleting a contact (issue 14): nothing of them is left on this device — no contact, no
 * conversation, no history, no MLS state, no queue on the relay — shared groups are untouched, and
 * they can be a contact again through a new invite.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { ParleyError } from "../src/errors.js";
import { connect, eventsOf, person, relayForThisFile } from "./helpers/people.js";

const relay = relayForThisFile();

it("deleting a contact forgets them, their chats and their queues; shared groups stay", async () => {
  const alice = await person("Alice", relay.url);
  const bob = (await person("Bob", relay.url)).client;
  const carol = (await person("Carol", relay.url)).client;
  await connect(alice.client, bob);
  await connect(alice.client, carol);
  await alice.client.send("Bob", "a secret for Bob");
  await bob.sync();
  await bob.send("Alice", "a secret for Alice");
  await alice.client.sync();
  // A second conversation with Bob that replaced the first: both go.
  await connect(alice.client, bob);
  await alice.client.createGroup("Trio");
  await alice.client.addToGroup("Trio", ["Bob", "Carol"]);
  await bob.sync();
  await carol.sync();

  const bobConversations = (await alice.store.list("conv/")).length;
  const deleted = await alice.client.deleteContact("Bob");
  assert.equal(deleted.name, "Bob");
  assert.equal(deleted.conversations, 2);
  assert.equal(deleted.queuesDeleted, 2);
  assert.equal((await alice.store.list("conv/")).length, bobConversations - 2);

  assert.deepEqual(
    (await alice.client.contacts()).map((c) => c.name),
    ["Carol"],
  );
  assert.deepEqual((await alice.client.conversations()).map((c) => c.name).sort(), ["Carol", "Trio"]);
  await assert.rejects(alice.client.messages("Bob"), (e: unknown) => e instanceof ParleyError);
  // Nothing Bob wrote or was sent is left in any value of the store.
  for (const [key, value] of await alice.store.list("")) {
    const text = new TextDecoder().decode(value);
    assert.ok(!text.includes("a secret for"), `${key} still holds the history`);
  }

  // The group with Bob in it carries on, for everyone.
  await alice.client.send("Trio", "group goes on");
  assert.deepEqual(
    eventsOf(await bob.sync(), "message").map((e) => e.message.text),
    ["group goes on"],
  );

  // Bob's 1:1 messages to Alice find no queue: the relay stores nothing, his outbox keeps trying.
  const sent = await bob.send("Alice", "are you there?");
  assert.equal(sent.status, "sending");
  assert.equal(eventsOf(await alice.client.sync(), "message").length, 0);

  // A new invite makes them contacts again, from nothing.
  await connect(alice.client, bob);
  await alice.client.send("Bob", "hello again");
  assert.deepEqual(
    eventsOf(await bob.sync(), "message").map((e) => e.message.text),
    ["hello again"],
  );
  assert.deepEqual(
    (await alice.client.messages("Bob")).map((m) => m.text),
    ["hello again"],
  );
});

it("deleting an unknown contact is a typed error and changes nothing", async () => {
  const alice = (await person("Alice", relay.url)).client;
  await assert.rejects(alice.deleteContact("Nobody"), (e: unknown) => {
    assert.ok(e instanceof ParleyError);
    assert.equal(e.code, "unknown_contact");
    return true;
  });
});
