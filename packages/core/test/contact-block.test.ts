/**
 * Blocking a contact (issue 14): what they write is dropped on arrival — in our chat and in a group
 * we share — without a receipt; we cannot write to them; unblocking brings what they write next.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { ParleyError } from "../src/errors.js";
import { connect, eventsOf, person, relayForThisFile } from "./helpers/people.js";

const relay = relayForThisFile();

it("a blocked contact's messages are dropped in the chat and in groups; unblocking lets new ones in", async () => {
  const alice = (await person("Alice", relay.url)).client;
  const bob = (await person("Bob", relay.url)).client;
  const carol = (await person("Carol", relay.url)).client;
  await connect(alice, bob);
  await connect(alice, carol);
  await connect(bob, carol);
  await alice.createGroup("Trio");
  await alice.addToGroup("Trio", ["Bob", "Carol"]);
  await bob.sync();
  await carol.sync();

  const blocked = await alice.blockContact("Bob");
  assert.equal(blocked.blocked, true);
  assert.equal(blocked.canSend, false);
  await bob.send("Alice", "let me in");
  await bob.send("Trio", "hello group, from Bob");
  await carol.send("Trio", "hello group, from Carol");
  const seen = eventsOf(await alice.sync(), "message").map((e) => e.message.text);
  assert.deepEqual(seen, ["hello group, from Carol"]);
  assert.deepEqual(
    (await alice.messages("Bob")).map((m) => m.text),
    [],
  );
  assert.ok(!(await alice.messages("Trio")).some((m) => m.text.includes("from Bob")));
  // No receipt went back: Bob's message never shows as delivered.
  await bob.sync();
  const mine = (await bob.messages("Alice")).find((m) => m.text === "let me in")!;
  assert.notEqual(mine.status, "delivered");
  await assert.rejects(
    alice.send("Bob", "hi"),
    (e: unknown) => e instanceof ParleyError && e.code === "blocked",
  );

  const unblocked = await alice.blockContact("Bob", false);
  assert.equal(unblocked.blocked, false);
  await bob.send("Alice", "after the unblock");
  assert.deepEqual(
    eventsOf(await alice.sync(), "message").map((e) => e.message.text),
    ["after the unblock"],
  );
  await alice.send("Bob", "welcome back");
  assert.deepEqual(
    eventsOf(await bob.sync(), "message").map((e) => e.message.text),
    ["welcome back"],
  );
});
