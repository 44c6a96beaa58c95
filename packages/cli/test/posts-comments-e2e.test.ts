/**
 * Comments and likes on posts (issue 12, docs/04-posts.md) through a real relay and real CLI
 * profiles: the post's audience sees them, also members who are not the commenter's contacts (one
 * side of the rule), and nobody outside the audience sees them, also the commenter's own contacts
 * (the other side); a like can be taken back.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { parleyJson, type RelayProcess, startRelayProcess, tempDir } from "./helpers.js";
import { connect, feed, type PostJson } from "./posts-helpers.js";

let relay: RelayProcess;
const alice = tempDir("pc-alice");
const bob = tempDir("pc-bob");
const carol = tempDir("pc-carol");
const erin = tempDir("pc-erin");

before(async () => {
  relay = await startRelayProcess(tempDir("pc-relay"));
  for (const [home, name] of [
    [alice, "Alice"],
    [bob, "Bob"],
    [carol, "Carol"],
    [erin, "Erin"],
  ] as const)
    await parleyJson(home, "init", "--name", name, "--server", relay.url);
  // Alice's friends: Bob and Carol, who are not each other's contacts; Bob's friend Erin is not Alice's.
  await connect(alice, bob);
  await connect(alice, carol);
  await connect(bob, erin);
});
after(async () => {
  await relay?.stop();
});

test("comments and likes: the post's audience sees them, whether or not they know the commenter; nobody else", async () => {
  const post = await parleyJson<PostJson>(alice, "post", "what shall we cook?");
  await parleyJson(bob, "sync");
  const commented = await parleyJson<PostJson>(bob, "comment", `#${post.id}`, "pasta, surely");
  assert.deepEqual(
    commented.comments.map((c) => c.text),
    ["pasta, surely"],
  );
  await parleyJson(carol, "sync");
  await parleyJson(carol, "like", `#${post.id.slice(0, 8)}`);

  // Carol is in the post's audience but not Bob's contact: she sees his comment.
  const carolSees = (await feed(carol)).find((p) => p.id === post.id)!;
  assert.deepEqual(
    carolSees.comments.map((c) => [c.from, c.text]),
    [["Bob (not a contact)", "pasta, surely"]],
  );
  const aliceSees = (await feed(alice)).find((p) => p.id === post.id)!;
  assert.deepEqual(
    aliceSees.comments.map((c) => [c.from, c.text]),
    [["Bob", "pasta, surely"]],
  );
  assert.deepEqual(aliceSees.likes, ["Carol"]);
  const bobSees = (await feed(bob)).find((p) => p.id === post.id)!;
  assert.deepEqual(bobSees.likes, ["Carol (not a contact)"]);

  // Erin is Bob's contact but not in the post's audience: she sees neither the post nor his comment.
  await parleyJson(erin, "sync");
  assert.deepEqual(await feed(erin), []);

  const undone = await parleyJson<PostJson>(carol, "like", `#${post.id}`, "--undo");
  assert.equal(undone.likedByMe, false);
  assert.deepEqual((await feed(alice)).find((p) => p.id === post.id)!.likes, []);
});
