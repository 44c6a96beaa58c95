/**
 * Leaving without an admin online (docs/protocol.md, "Leaving"): the leaver marks itself leaving
 * in the group state and forgets the group's keys at once; a member who is not an admin removes it,
 * and the admin who comes back later follows.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { groupView } from "./helpers/group-view.js";
import { connect, eventsOf, person, relayForThisFile } from "./helpers/people.js";

const relay = relayForThisFile();

it("a member leaves while the only admin is away; another member carries the removal out", async () => {
  const alice = await person("Alice", relay.url);
  const bob = await person("Bob", relay.url);
  const carol = await person("Carol", relay.url);
  for (const other of [bob, carol]) await connect(alice.client, other.client);
  await alice.client.createGroup("Away");
  await alice.client.addToGroup("Away", ["Bob", "Carol"]);
  await bob.client.sync();
  await carol.client.sync();
  // Alice is offline from here on.
  await carol.client.leaveGroup("Away");
  assert.equal(await groupView(carol.store, "Away"), undefined, "Carol's keys are gone at once");
  // Each says once that Carol left (her own leave mark), not that anyone removed her.
  const membersEvents = (events: Awaited<ReturnType<typeof bob.client.sync>>) =>
    eventsOf(events, "group").flatMap((e) =>
      e.change === "members"
        ? [{ left: e.left.map((p) => p.name), removed: e.removed.map((p) => p.name) }]
        : [],
    );
  assert.deepEqual(membersEvents(await bob.client.sync()), [{ left: ["Carol"], removed: [] }]);
  await bob.client.send("Away", "Carol is not here any more");
  const bobView = await groupView(bob.store, "Away");
  assert.equal(bobView?.members.length, 2, "Bob (not an admin) removed Carol");
  assert.deepEqual(membersEvents(await alice.client.sync()), [{ left: ["Carol"], removed: [] }]);
  const aliceView = await groupView(alice.store, "Away");
  assert.deepEqual(aliceView, bobView, "the admin follows when she comes back");
  assert.ok((await alice.client.messages("Away")).some((m) => m.text === "Carol is not here any more"));
  await carol.client.sync();
  assert.ok(!(await carol.client.messages("Away")).some((m) => m.text === "Carol is not here any more"));
});

it("a member may not remove someone who did not ask to leave", async () => {
  const alice = await person("Alice", relay.url);
  const bob = await person("Bob", relay.url);
  const carol = await person("Carol", relay.url);
  for (const other of [bob, carol]) await connect(alice.client, other.client);
  await connect(bob.client, carol.client);
  await alice.client.createGroup("Rule");
  await alice.client.addToGroup("Rule", ["Bob", "Carol"]);
  await bob.client.sync();
  await carol.client.sync();
  await assert.rejects(bob.client.removeFromGroup("Rule", ["Carol"]), { code: "not_admin" });
});
