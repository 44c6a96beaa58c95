/**
 * Group invite links (client/group-links/, docs/protocol.md "Group links"): whoever opens the link
 * asks to join with a KeyPackage sealed to the link's key; the admin's client adds them — at once,
 * or after an admin approves. The joiner is nobody's contact.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { InviteError } from "../src/index.js";
import { groupView } from "./helpers/group-view.js";
import { connect, eventsOf, person, relayForThisFile } from "./helpers/people.js";
import { delay } from "./helpers/relay.js";

const relay = relayForThisFile();

it("a link without approval: a stranger asks, the admin's client adds them, they talk", async () => {
  const alice = await person("Alice", relay.url);
  const bob = await person("Bob", relay.url);
  await connect(alice.client, bob.client);
  await alice.client.createGroup("Hikers");
  await alice.client.addToGroup("Hikers", ["Bob"]);
  await bob.client.sync();
  const { link, approve, expiresAt } = await alice.client.createGroupLink("Hikers");
  assert.match(link, /#\/join\//);
  assert.equal(approve, false);
  assert.equal(expiresAt, null);

  const dave = await person("Dave", relay.url);
  const asked = await dave.client.joinGroupByLink(link);
  assert.deepEqual(asked, { group: "Hikers", approve: false, expiresAt: null });
  assert.equal((await dave.client.contacts()).length, 0, "Dave is nobody's contact");

  const added = eventsOf(await alice.client.sync(), "group");
  assert.ok(added.some((e) => e.change === "members" && e.added.some((p) => p.name === "Dave")));
  const joined = eventsOf(await dave.client.sync(), "group");
  assert.equal(joined.length, 1);
  assert.equal(joined[0]!.change, "joined");
  assert.equal(joined[0]!.name, "Hikers");
  await bob.client.sync();
  const views = [await groupView(alice.store), await groupView(bob.store), await groupView(dave.store)];
  assert.equal(views[0]?.members.length, 3);
  assert.deepEqual(views[1], views[0]);
  assert.deepEqual(views[2], views[0], "Dave is in the same epoch as everyone");

  await dave.client.send("Hikers", "hello from Dave");
  await alice.client.sync();
  await bob.client.sync();
  const seen = (await bob.client.messages("Hikers")).find((m) => m.text === "hello from Dave");
  assert.equal(seen?.from.name, "Dave", "members learn the joiner's name");
  await alice.client.send("Hikers", "welcome Dave");
  await dave.client.sync();
  assert.ok((await dave.client.messages("Hikers")).some((m) => m.text === "welcome Dave"));

  // The same link again (a second person), and Dave asking twice changes nothing.
  const erin = await person("Erin", relay.url);
  await erin.client.joinGroupByLink(link);
  await assert.rejects(dave.client.joinGroupByLink(link), { code: "already_in_group" });
  await alice.client.sync();
  await erin.client.sync();
  assert.equal((await groupView(erin.store))?.members.length, 4);
});

it("a link with approval: requests wait, the admin approves one and declines another", async () => {
  const alice = await person("Alice", relay.url);
  await alice.client.createGroup("Club");
  const { link } = await alice.client.createGroupLink("Club", { approve: true, expiresInMs: 86_400_000 });
  const dave = await person("Dave", relay.url);
  const mallory = await person("Mallory", relay.url);
  const asked = await dave.client.joinGroupByLink(link);
  assert.equal(asked.approve, true);
  assert.ok(asked.expiresAt);
  await mallory.client.joinGroupByLink(link);

  const requests = eventsOf(await alice.client.sync(), "join-request");
  assert.deepEqual(requests.map((r) => r.request.name).sort(), ["Dave", "Mallory"]);
  assert.equal((await groupView(alice.store))?.members.length, 1, "nobody is added before approval");
  assert.equal((await alice.client.joinRequests("Club")).length, 2);
  await dave.client.sync();
  assert.equal(await groupView(dave.store), undefined);

  await assert.rejects(alice.client.approveJoinRequest("Club", "Zed"), { code: "unknown_join_request" });
  const { added } = await alice.client.approveJoinRequest("Club", "Dave");
  assert.equal(added.name, "Dave");
  await alice.client.declineJoinRequest("Club", "Mallory");
  assert.deepEqual(await alice.client.joinRequests("Club"), []);
  await dave.client.sync();
  await mallory.client.sync();
  assert.equal((await groupView(dave.store))?.members.length, 2);
  assert.equal(await groupView(mallory.store), undefined, "a declined request is never answered");
});

it("a revoked or expired link opens for nobody; a mistyped key is refused before anything is sent", async () => {
  const alice = await person("Alice", relay.url);
  await alice.client.createGroup("Quiet");
  const { link } = await alice.client.createGroupLink("Quiet");
  const dave = await person("Dave", relay.url);

  const wrongKey = link.replace(/.$/, (c) => (c === "A" ? "B" : "A"));
  await assert.rejects(dave.client.joinGroupByLink(wrongKey), (e) => e instanceof InviteError);
  await assert.rejects(alice.client.joinGroupByLink(link), { reason: "own_invite" });

  assert.equal(await alice.client.revokeGroupLink("Quiet"), true);
  assert.equal(await alice.client.groupLink("Quiet"), null);
  await assert.rejects(dave.client.joinGroupByLink(link), { reason: "gone" });
  await assert.rejects(alice.client.revokeGroupLink("Quiet"), { code: "no_group_link" });

  const short = await alice.client.createGroupLink("Quiet", { expiresInMs: 1 });
  await delay(5);
  await assert.rejects(dave.client.joinGroupByLink(short.link), { reason: "gone" });

  // A new link replaces the last one: the old link stops working.
  const first = await alice.client.createGroupLink("Quiet");
  const second = await alice.client.createGroupLink("Quiet");
  await assert.rejects(dave.client.joinGroupByLink(first.link), { reason: "gone" });
  await dave.client.joinGroupByLink(second.link);
  await alice.client.sync();
  await dave.client.sync();
  assert.equal((await groupView(dave.store))?.members.length, 2);
});

it("only an admin makes a link; a request read after the link expired is dropped", async () => {
  const alice = await person("Alice", relay.url);
  const bob = await person("Bob", relay.url);
  await connect(alice.client, bob.client);
  await alice.client.createGroup("Admins");
  await alice.client.addToGroup("Admins", ["Bob"]);
  await bob.client.sync();
  await assert.rejects(bob.client.createGroupLink("Admins"), { code: "not_admin" });

  const { link } = await alice.client.createGroupLink("Admins", { expiresInMs: 300 });
  const dave = await person("Dave", relay.url);
  await dave.client.joinGroupByLink(link);
  await delay(350);
  const rejected = eventsOf(await alice.client.sync(), "rejected");
  assert.deepEqual(
    rejected.map((r) => r.reason),
    ["group_link_expired"],
  );
  assert.equal((await groupView(alice.store))?.members.length, 2);
});

it("every admin sees a link's requests: a second admin approves, and nobody is added twice", async () => {
  const alice = await person("Alice", relay.url);
  const bob = await person("Bob", relay.url);
  const carol = await person("Carol", relay.url);
  await connect(alice.client, bob.client);
  await connect(alice.client, carol.client);
  await alice.client.createGroup("Board");
  await alice.client.addToGroup("Board", ["Bob", "Carol"]);
  await bob.client.sync();
  await carol.client.sync();
  await alice.client.setGroupAdmin("Board", "Bob", true);
  await bob.client.sync();
  await carol.client.sync();
  const { link } = await alice.client.createGroupLink("Board", { approve: true });
  await bob.client.sync(); // Bob, an admin, learns of the link
  await carol.client.sync(); // Carol, not an admin, keeps nothing of it
  assert.equal((await bob.client.groupLink("Board"))?.link, link, "the other admin has the link");
  assert.equal(await carol.client.groupLink("Board"), null);

  const dave = await person("Dave", relay.url);
  await dave.client.joinGroupByLink(link);
  // Both admins are told; Carol is not.
  assert.deepEqual(
    eventsOf(await bob.client.sync(), "join-request").map((r) => r.request.name),
    ["Dave"],
  );
  assert.deepEqual(
    eventsOf(await alice.client.sync(), "join-request").map((r) => r.request.name),
    ["Dave"],
  );
  assert.deepEqual(eventsOf(await carol.client.sync(), "join-request"), []);

  // Bob approves; Alice, once she has seen his commit, has nothing left to approve.
  await bob.client.approveJoinRequest("Board", "Dave");
  await alice.client.sync();
  assert.deepEqual(await alice.client.joinRequests("Board"), []);
  await dave.client.sync();
  assert.equal((await groupView(dave.store))?.members.length, 4);

  // Erin asks; both admins approve before either hears of the other: one add wins, the other is
  // dropped when redone; Erin joins once and everyone agrees.
  const erin = await person("Erin", relay.url);
  await erin.client.joinGroupByLink(link);
  await alice.client.sync();
  await bob.client.sync();
  await alice.client.approveJoinRequest("Board", "Erin");
  await bob.client.approveJoinRequest("Board", "Erin");
  for (let i = 0; i < 3; i++) for (const p of [alice, bob, carol, dave]) await p.client.sync();
  const joined = eventsOf(await erin.client.sync(), "group").filter((e) => e.change === "joined");
  assert.equal(joined.length, 1, "one Welcome");
  for (const p of [alice, bob, carol, dave]) await p.client.sync();
  const views = await Promise.all([alice, bob, carol, dave, erin].map((p) => groupView(p.store)));
  assert.equal(views[0]?.members.length, 5);
  for (const v of views) assert.deepEqual(v, views[0]);
  await assert.rejects(alice.client.approveJoinRequest("Board", "Erin"), (e: Error) =>
    /unknown_join_request|already_member/.test((e as { code?: string }).code ?? ""),
  );

  // Bob (not the maker) revokes the link: it opens for nobody, and Alice forgets it too.
  assert.equal(await bob.client.revokeGroupLink("Board"), true);
  await alice.client.sync();
  assert.equal(await alice.client.groupLink("Board"), null);
  const frank = await person("Frank", relay.url);
  await assert.rejects(frank.client.joinGroupByLink(link), { reason: "gone" });
});
