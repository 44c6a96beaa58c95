/**
 * A person added to a group and removed again before their device synced (issue 14): their sync
 * must not fail ("the group state of this conversation is missing"), and they are told what happened.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import type { ClientEvent } from "../src/client/events.js";
import { connect, person, relayForThisFile } from "./helpers/people.js";

const relay = relayForThisFile();

it("a member removed before their first sync is told, and their sync succeeds", async () => {
  const alice = (await person("Alice", relay.url)).client;
  const bob = (await person("Bob", relay.url)).client;
  const carol = (await person("Carol", relay.url)).client;
  for (const other of [bob, carol]) await connect(alice, other);
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
