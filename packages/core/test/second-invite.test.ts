/**
 * Two people who are contacts already and connect again (a second invite, issue 14): one contact
 * each, one chat, the earlier history kept, and what was still on its way in the earlier
 * conversation lands in the same chat.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { connect, eventsOf, person, relayForThisFile } from "./helpers/people.js";

const relay = relayForThisFile();

it("a second invite between the same two people leaves one contact and one chat with all the history", async () => {
  const alice = (await person("Alice", relay.url)).client;
  const bob = (await person("Bob", relay.url)).client;
  await connect(alice, bob);
  await alice.send("Bob", "first conversation");
  await bob.sync();
  await bob.send("Alice", "still the first");
  await alice.sync();
  const aliceSafety = (await alice.safetyNumber("Bob")).safetyNumber;
  await alice.verifyContact("Bob");
  // Bob wrote this in the first conversation; Alice reads it only after the second invite.
  await bob.send("Alice", "in flight in the first");

  await connect(alice, bob);

  for (const [me, other] of [
    [alice, "Bob"],
    [bob, "Alice"],
  ] as const) {
    assert.deepEqual(
      (await me.contacts()).map((c) => c.name),
      [other],
    );
    assert.deepEqual(
      (await me.conversations()).map((c) => [c.kind, c.name]),
      [["direct", other]],
    );
  }
  // What Alice had verified stays verified (same identity key, same safety number).
  const contact = (await alice.contacts())[0]!;
  assert.equal(contact.verified, true);
  assert.equal((await alice.safetyNumber("Bob")).safetyNumber, aliceSafety);

  await alice.send("Bob", "second conversation");
  const bobGot = eventsOf(await bob.sync(), "message").map((e) => e.message.text);
  assert.deepEqual(bobGot, ["second conversation"]);
  const history = (await alice.messages("Bob")).map((m) => m.text);
  assert.deepEqual(history, [
    "first conversation",
    "still the first",
    "in flight in the first",
    "second conversation",
  ]);
});

it("a contact can be given our own name for them; two contacts never share one", async () => {
  const alice = (await person("Alice", relay.url)).client;
  const bob = (await person("Bob", relay.url)).client;
  const bob2 = (await person("Bob", relay.url)).client;
  await connect(alice, bob);
  await connect(alice, bob2);
  assert.deepEqual((await alice.contacts()).map((c) => c.name).sort(), ["Bob", "Bob (2)"]);
  const renamed = await alice.renameContact("Bob (2)", "Bob from work");
  assert.equal(renamed.name, "Bob from work");
  await assert.rejects(alice.renameContact("Bob", "bob from work"), /name_taken/);
  await alice.send("Bob from work", "hello");
  assert.deepEqual(
    eventsOf(await bob2.sync(), "message").map((e) => e.message.text),
    ["hello"],
  );
  // Their next intro or profile does not undo our name for them.
  assert.deepEqual((await alice.contacts()).map((c) => c.name).sort(), ["Bob", "Bob from work"]);
});
