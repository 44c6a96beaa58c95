/**
 * Friends-only posts (issue 12, docs/04-posts.md) through a real relay and real CLI profiles: a
 * post reaches its audience and nobody else; a member removed from an audience, or a blocked
 * contact, reads nothing later; a new contact reads from then on. Comments and likes:
 * posts-comments-e2e; the rest: posts-lifecycle-e2e.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { parley, parleyJson, type RelayProcess, startRelayProcess, tempDir } from "./helpers.js";
import { connect, feed, type PostJson, texts } from "./posts-helpers.js";

let relay: RelayProcess;
const homes: Record<string, string> = {};
const [alice, bob, carol, dave, erin] = ["Alice", "Bob", "Carol", "Dave", "Erin"].map((n) => {
  homes[n] = tempDir(`p-${n.toLowerCase()}`);
  return homes[n]!;
}) as [string, string, string, string, string];

before(async () => {
  relay = await startRelayProcess(tempDir("p-relay"));
  for (const [name, home] of Object.entries(homes))
    await parleyJson(home, "init", "--name", name, "--server", relay.url);
  // Alice's friends: Bob, Carol, Dave. Bob's friend Erin is not Alice's contact; Bob and Carol
  // are not each other's contacts.
  await connect(alice, bob);
  await connect(alice, carol);
  await connect(alice, dave);
  await connect(bob, erin);
});
after(async () => {
  await relay?.stop();
});

test("a post to all friends reaches every contact, and nobody else", async () => {
  const sent = await parleyJson<PostJson>(alice, "post", "first post to everyone");
  assert.equal(sent.mine, true);
  assert.equal(sent.audience, "all");
  for (const home of [bob, carol, dave]) {
    const got = await feed(home);
    assert.deepEqual(texts(got), ["first post to everyone"]);
    assert.equal(got[0]!.from, "Alice");
  }
  assert.deepEqual(await feed(erin), [], "Erin is not Alice's contact");
  // The feed group is no chat: it is not in the conversation list.
  const chats = await parleyJson<{ name: string }[]>(bob, "conversations");
  assert.deepEqual(chats.map((c) => c.name).sort(), ["Alice", "Erin"]);
  const human = await parley(bob, "feed");
  assert.match(human.stdout, /#\S{6} Alice · .* UTC\n {2}first post to everyone/);
});

test("an audience: its members read the post, a contact outside it does not", async () => {
  const made = await parleyJson<{ name: string; members: { name: string }[] }>(
    alice,
    "audience",
    "create",
    "Close friends",
    "Bob",
  );
  assert.deepEqual(
    made.members.map((m) => m.name),
    ["Bob"],
  );
  await parleyJson(alice, "post", "only for close friends", "--audience", "Close friends");
  assert.ok(texts(await feed(bob)).includes("only for close friends"));
  assert.ok(!texts(await feed(carol)).includes("only for close friends"));
  const list = await parleyJson<{ name: string }[]>(alice, "audience", "list");
  assert.deepEqual(list.map((a) => a.name).sort(), ["Close friends", "all"]);
  const shown = await parley(alice, "audience", "show", "Close friends");
  assert.match(shown.stdout, /Close friends: Bob/);
});

test("a member removed from an audience, and a blocked contact, read nothing later", async () => {
  await parleyJson(alice, "audience", "add", "Close friends", "Carol");
  await parleyJson(alice, "post", "close friends, with Carol", "--audience", "Close friends");
  assert.ok(texts(await feed(carol)).includes("close friends, with Carol"));
  assert.ok(texts(await feed(bob)).includes("close friends, with Carol"));

  await parleyJson(alice, "audience", "remove", "Close friends", "Bob");
  await parleyJson(alice, "post", "after Bob left the list", "--audience", "Close friends");
  assert.ok(texts(await feed(carol)).includes("after Bob left the list"));
  const bobSync = await parley(bob, "sync");
  assert.doesNotMatch(bobSync.stdout, /after Bob left/);
  assert.doesNotMatch(bobSync.stdout, /removed|Posts/, "the feed says nothing to him about it");
  const bobFeed = await feed(bob);
  assert.ok(!texts(bobFeed).includes("after Bob left the list"));
  assert.ok(texts(bobFeed).includes("close friends, with Carol"), "what he read before stays");

  await parleyJson(alice, "contact", "block", "Dave");
  await parleyJson(alice, "post", "after blocking Dave");
  assert.ok(texts(await feed(carol)).includes("after blocking Dave"));
  assert.ok(!texts(await feed(dave)).includes("after blocking Dave"));
  await parleyJson(alice, "contact", "block", "Dave", "--off");
});

test("a new contact sees posts from the time they were added onward", async () => {
  const frank = tempDir("p-frank");
  await parleyJson(frank, "init", "--name", "Frank", "--server", relay.url);
  await connect(alice, frank);
  await parleyJson(alice, "post", "welcome Frank");
  assert.deepEqual(texts(await feed(frank)), ["welcome Frank"]);
});
