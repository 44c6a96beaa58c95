/**
 * Commit order (docs/protocol.md, "Commit order"): two admins change a group at the same moment,
 * and the group does not fork. Per epoch the first commit in the queue wins; the loser's client
 * redoes its change on the new epoch, sends only that commit's Welcomes, and seals again the
 * messages the queue put after the winning commit.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import type { ParleyClient } from "../src/client/parley-client.js";
import type { FetchLike } from "../src/relay-client/relay-http.js";
import { assertConverged, groupView } from "./helpers/group-view.js";
import { connect, eventsOf, person, relayForThisFile } from "./helpers/people.js";

const relay = relayForThisFile();

type Person = Awaited<ReturnType<typeof person>>;

/** Alice (admin) and Bob (admin) in group `name`, Carol a member; Dave and Erin known to both admins. */
async function cast(name: string) {
  const names = ["Alice", "Bob", "Carol", "Dave", "Erin"] as const;
  const people = {} as Record<(typeof names)[number], Person>;
  for (const n of names) people[n] = await person(n, relay.url);
  const { Alice: alice, Bob: bob } = people;
  for (const other of ["Bob", "Carol", "Dave", "Erin"] as const)
    await connect(alice.client, people[other].client);
  for (const other of ["Carol", "Dave", "Erin"] as const) await connect(bob.client, people[other].client);
  await alice.client.createGroup(name);
  await alice.client.addToGroup(name, ["Bob", "Carol"]);
  await bob.client.sync();
  await people.Carol.client.sync();
  await alice.client.setGroupAdmin(name, "Bob", true);
  await bob.client.sync();
  await people.Carol.client.sync();
  return people;
}

/** Everyone syncs, a few rounds (a redone change needs its author to read the queue again). */
async function settle(clients: ParleyClient[], rounds = 3) {
  for (let i = 0; i < rounds; i++) for (const c of clients) await c.sync();
}

it("two admins add at once: one commit wins, the other is redone, each invitee joins once", async () => {
  const p = await cast("Twoadds");
  await Promise.all([
    p.Alice.client.addToGroup("Twoadds", ["Dave"]),
    p.Bob.client.addToGroup("Twoadds", ["Erin"]),
  ]);
  const all = [p.Alice, p.Bob, p.Carol, p.Dave, p.Erin];
  const joined = new Map<string, number>();
  for (const who of [p.Dave, p.Erin]) {
    const events = await who.client.sync();
    joined.set(
      who === p.Dave ? "Dave" : "Erin",
      eventsOf(events, "group").filter((e) => e.change === "joined").length,
    );
    assert.deepEqual(eventsOf(events, "rejected"), [], "no Welcome or message refused");
  }
  assert.deepEqual(Object.fromEntries(joined), { Dave: 1, Erin: 1 }, "one Welcome each");
  await settle(all.map((x) => x.client));
  const view = await assertConverged(all, "Twoadds");
  assert.equal(view.members.length, 5);
  await p.Erin.client.send("Twoadds", "hello from Erin");
  await settle(
    all.map((x) => x.client),
    1,
  );
  for (const who of all) {
    const texts = (await who.client.messages("Twoadds")).map((m) => m.text);
    assert.deepEqual(
      texts.filter((t) => t === "hello from Erin"),
      ["hello from Erin"],
    );
  }
});

it("two admins add the same person at once: one Welcome, no second add", async () => {
  const p = await cast("Sameadd");
  await Promise.all([
    p.Alice.client.addToGroup("Sameadd", ["Dave"]),
    p.Bob.client.addToGroup("Sameadd", ["Dave"]).catch((e: Error) => e),
  ]);
  const events = await p.Dave.client.sync();
  assert.equal(eventsOf(events, "group").filter((e) => e.change === "joined").length, 1, "one Welcome");
  const all = [p.Alice, p.Bob, p.Carol, p.Dave];
  await settle(all.map((x) => x.client));
  const view = await assertConverged(all, "Sameadd");
  assert.equal(view.members.length, 4, "Dave is in once");
});

it("a rename and a removal at once both take effect, and the group stays one", async () => {
  const p = await cast("Renrem");
  await Promise.all([
    p.Alice.client.renameGroup("Renrem", "Renamed"),
    p.Bob.client.removeFromGroup("Renrem", ["Carol"]),
  ]);
  const stay = [p.Alice, p.Bob];
  await settle([...stay, p.Carol].map((x) => x.client));
  const view = await assertConverged(stay, "Renamed");
  assert.equal(view.members.length, 2, "Carol is out");
  assert.equal(await groupView(p.Carol.store, "Renrem"), undefined, "Carol's keys are gone");
  assert.equal((await p.Carol.client.conversations()).find((c) => c.kind === "group")?.status, "removed");
  // The group moved away from the queue Carol knows; it still works for those who stay.
  await p.Alice.client.send("Renamed", "after");
  await settle(
    stay.map((x) => x.client),
    1,
  );
  assert.ok((await p.Bob.client.messages("Renamed")).some((m) => m.text === "after"));
});

it("a message sealed before a commit the queue put ahead of it is sent again, once", async () => {
  const p = await cast("Resend");
  // Carol has not read the queue: her message is of the epoch before Dave's add, and lands after it.
  await p.Alice.client.addToGroup("Resend", ["Dave"]);
  await p.Carol.client.send("Resend", "typed before the add");
  const all = [p.Alice, p.Bob, p.Carol, p.Dave];
  await settle(all.map((x) => x.client));
  await assertConverged(all, "Resend");
  for (const who of all) {
    const texts = (await who.client.messages("Resend")).map((m) => m.text);
    assert.deepEqual(
      texts.filter((t) => t === "typed before the add"),
      ["typed before the add"],
      "once, for everyone in the group when it landed — Dave too",
    );
  }
});

it("a leave sent in an epoch a commit has just ended still counts", async () => {
  const p = await cast("Leave");
  await p.Alice.client.renameGroup("Leave", "Left");
  await p.Carol.client.leaveGroup("Leave"); // Carol has not read the rename
  const stay = [p.Alice, p.Bob];
  await settle(stay.map((x) => x.client));
  const view = await assertConverged(stay, "Left");
  assert.equal(view.members.length, 2, "Carol is out");
});

/**
 * Alice's device, whose network `gate` can cut: queue reads (relay commands) and/or deposits fail
 * as a dropped connection does, while the rest of the cast is as in `cast`.
 */
async function castWithGate(name: string, gatedOne: "Alice" | "Carol" = "Alice") {
  /**
   * `failSends`: how many of the next deposits fail (then they go through again). `cutAfter`: that
   * many more deposits (1:1 batches too) go through, then every one fails until it is unset.
   */
  const gate = { reads: true, sends: true, failSends: 0, cutAfter: undefined as number | undefined };
  const gated: FetchLike = async (input, init) => {
    const url = String(input instanceof Request ? input.url : input);
    if (url.includes("/v1/send") && gate.cutAfter !== undefined) {
      if (gate.cutAfter === 0) throw new TypeError("fetch failed");
      gate.cutAfter--;
    }
    if (!gate.reads && url.includes("/v1/queues/command")) throw new TypeError("fetch failed");
    if (url.includes("/v1/send/") && (!gate.sends || gate.failSends > 0)) {
      gate.failSends = Math.max(0, gate.failSends - 1);
      throw new TypeError("fetch failed");
    }
    return fetch(input, init);
  };
  const fetchOf = (who: string) => (who === gatedOne ? { fetch: gated } : {});
  const people = {
    Alice: await person("Alice", relay.url, fetchOf("Alice")),
    Bob: await person("Bob", relay.url),
    Carol: await person("Carol", relay.url, fetchOf("Carol")),
    Dave: await person("Dave", relay.url),
  };
  for (const other of ["Bob", "Carol", "Dave"] as const)
    await connect(people.Alice.client, people[other].client);
  await people.Alice.client.createGroup(name);
  await people.Alice.client.addToGroup(name, ["Bob", "Carol"]);
  await people.Alice.client.setGroupAdmin(name, "Bob", true);
  await settle([people.Bob.client, people.Carol.client]);
  return { ...people, gate };
}

it("a Welcome that leaves after the group moved on names the queue where its commit lay", async () => {
  const p = await castWithGate("Moved");
  // Alice's add reaches the queue, but her device reads nothing more for now.
  p.gate.reads = false;
  await assert.rejects(p.Alice.client.addToGroup("Moved", ["Dave"]));
  // Meanwhile Bob removes Carol after Alice's add: the group moves to a new queue.
  await p.Bob.client.removeFromGroup("Moved", [(await p.Carol.client.profile()).identityPublicKey]);
  // Alice reads it all at once — her add won, then the removal, then the move — and only then
  // sends Dave's Welcome. Dave must start where the add lay, or he misses the removal.
  p.gate.reads = true;
  await p.Alice.client.sync();
  const joined = await p.Dave.client.sync();
  assert.equal(eventsOf(joined, "group").filter((e) => e.change === "joined").length, 1);
  assert.deepEqual(eventsOf(joined, "rejected"), [], "nothing refused, no messages missed");
  await p.Bob.client.send("Moved", "after the move");
  const stay = [p.Alice, p.Bob, p.Dave];
  await settle(stay.map((x) => x.client));
  const view = await assertConverged(stay, "Moved");
  assert.equal(view.members.length, 3, "Alice, Bob and Dave");
  const texts = (await p.Dave.client.messages("Moved")).map((m) => m.text);
  assert.deepEqual(texts, ["after the move"], "Dave reads the group on its new queue");
});

it("a Welcome the relay could not take when its add won goes out later, once", async () => {
  const p = await castWithGate("Later");
  // The add reaches the queue and wins; the connection drops before Dave's Welcome leaves.
  p.gate.cutAfter = 1;
  await p.Alice.client.addToGroup("Later", ["Dave"]).catch(() => undefined);
  const joins = (events: Awaited<ReturnType<ParleyClient["sync"]>>) =>
    eventsOf(events, "group").filter((e) => e.change === "joined").length;
  assert.equal(joins(await p.Dave.client.sync()), 0, "no Welcome got through yet");
  p.gate.cutAfter = undefined;
  await p.Alice.client.sync();
  const events = await p.Dave.client.sync();
  assert.equal(joins(events), 1, "the Welcome went at Alice's next sync");
  assert.deepEqual(eventsOf(events, "rejected"), []);
  await p.Alice.client.sync();
  assert.equal(joins(await p.Dave.client.sync()), 0, "and only once");
  const all = [p.Alice, p.Bob, p.Carol, p.Dave];
  await settle(all.map((x) => x.client));
  const view = await assertConverged(all, "Later");
  assert.equal(view.members.length, 4);
});

it("a commit that never reached the queue is redone on the next sync once the group went past it", async () => {
  const p = await castWithGate("Never");
  p.gate.sends = false;
  await assert.rejects(p.Alice.client.renameGroup("Never", "Renamed by Alice"));
  p.gate.sends = true;
  // Another commit takes the epoch Alice's rename was made in.
  await p.Bob.client.rekeyGroup("Never");
  const all = [p.Alice, p.Bob, p.Carol];
  await settle(all.map((x) => x.client));
  const view = await assertConverged(all, "Renamed by Alice");
  assert.equal(view.name, "Renamed by Alice", "the rename was made again, on the epoch that won");
});

it("a commit that never reached the queue goes out again on the next sync, nothing else having happened", async () => {
  const p = await castWithGate("Again");
  p.gate.sends = false;
  await assert.rejects(p.Alice.client.renameGroup("Again", "Sent again"));
  p.gate.sends = true;
  const all = [p.Alice, p.Bob, p.Carol];
  await settle(all.map((x) => x.client));
  const view = await assertConverged(all, "Sent again");
  assert.equal(view.name, "Sent again");
});

it("a message its sender wrote after being removed, unread, is marked failed when the removal is read", async () => {
  const p = await cast("Toolate");
  await p.Bob.client.removeFromGroup("Toolate", [(await p.Carol.client.profile()).identityPublicKey]);
  // Carol has not read the removal: the relay takes her message, after the removal in the queue.
  const sent = await p.Carol.client.send("Toolate", "after my removal");
  assert.equal(sent.status, "sent");
  const events = await p.Carol.client.sync();
  assert.deepEqual(
    eventsOf(events, "warning").map((w) => [w.code, w.code === "send_failed" ? w.messageId : ""]),
    [["send_failed", sent.id]],
    "said once",
  );
  const group = (await p.Carol.client.conversations()).find((c) => c.kind === "group")!;
  assert.equal(group.status, "removed");
  const mine = (await p.Carol.client.messages(group.id)).find((m) => m.id === sent.id);
  assert.equal(mine?.status, "failed", "not shown as sent: nobody will read it");
  await settle([p.Alice.client, p.Bob.client, p.Carol.client]);
  for (const who of [p.Alice, p.Bob]) {
    const texts = (await who.client.messages("Toolate")).map((m) => m.text);
    assert.ok(!texts.includes("after my removal"), "dropped by everyone still in the group");
  }
  assert.deepEqual(eventsOf(await p.Carol.client.sync(), "warning"), [], "not said again");
});

it("a leave whose mark cannot get through keeps the keys until it does: never listed without them", async () => {
  const p = await castWithGate("Stuck", "Carol");
  // The group moves on while Carol reads nothing: more epochs than a member keeps for late messages.
  for (let i = 0; i < 5; i++) await p.Bob.client.rekeyGroup("Stuck");
  // Carol's mark fails to leave; a `group-leave` sealed now would be read 5 epochs late, by no one.
  p.gate.failSends = 1;
  await assert.rejects(p.Carol.client.leaveGroup("Stuck"));
  assert.ok(await groupView(p.Carol.store, "Stuck"), "Carol keeps the keys while her leave is not through");
  // Her next syncs carry the mark through (redone on the epoch she finds); then she leaves.
  await settle([p.Carol.client], 2);
  await p.Carol.client.leaveGroup("Stuck");
  assert.equal(await groupView(p.Carol.store, "Stuck"), undefined, "Carol's keys are gone");
  const stay = [p.Alice, p.Bob];
  await settle(stay.map((x) => x.client));
  const view = await assertConverged(stay, "Stuck");
  assert.equal(view.members.length, 2, "Carol is out of the member list");
});

it("a change asked for while an earlier one of ours settles, which reads our own removal, is refused as not_member", async () => {
  const { Alice: alice, Carol: carol, gate } = await castWithGate("Gone soon", "Carol");
  // Carol's key update is made, but cannot go out: it waits, staged.
  gate.sends = false;
  await assert.rejects(carol.client.rekeyGroup("Gone soon"));
  await alice.client.removeFromGroup("Gone soon", ["Carol"]);
  gate.sends = true;
  // Her next change first settles the waiting one, reading the queue: Alice's removal is there.
  await assert.rejects(carol.client.rekeyGroup("Gone soon"), { code: "not_member" });
});
