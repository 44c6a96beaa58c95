/**
 * Posts (docs/04-posts.md) against forged and malformed content, between in-process clients and a
 * real relay: a modified client of an audience member posts in the author's feed, deletes the
 * author's post, comments on a post that does not exist, sends a chat message into the feed; each is
 * dropped with its reason and nothing of it is kept. Also: a comment's rule (the post's audience)
 * and the sender's own refusals.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { ParleyClient } from "../src/client/parley-client.js";
import { ParleyError } from "../src/errors.js";
import { connect, eventsOf, person, relayForThisFile } from "./helpers/people.js";

/** The parts of a client that a modified client calls directly. */
interface Modified {
  sendBodyUnchecked(to: string, body: unknown, id?: string): Promise<unknown>;
}
const modified = (c: ParleyClient) => c as unknown as Modified;
const rejects = (p: Promise<unknown>, code: string) =>
  assert.rejects(p, (e: unknown) => e instanceof ParleyError && e.code === code);

/** The id of the (one) feed group `client` is a member of but does not own. */
async function friendsFeed(client: ParleyClient): Promise<string> {
  const groups = (await client.repo.conversations()).filter((c) => c.kind === "group" && c.feed);
  assert.equal(groups.length, 1);
  return groups[0]!.id;
}

describe("posts: forged and malformed content is dropped with a reason", () => {
  const relay = relayForThisFile();
  let alice: ParleyClient;
  let bob: ParleyClient;
  let carol: ParleyClient;
  let postId: string;

  before(async () => {
    alice = (await person("Alice", relay.url)).client;
    bob = (await person("Bob", relay.url)).client;
    carol = (await person("Carol", relay.url)).client;
    await connect(alice, bob);
    await connect(alice, carol);
    postId = (await alice.post({ text: "the real post" })).id;
    const atBob = eventsOf(await bob.sync(), "post");
    assert.deepEqual(
      atBob.map((e) => [e.change, e.by.name]),
      [["posted", "Alice"]],
    );
    assert.deepEqual(eventsOf(await bob.sync(), "group"), [], "joining a feed is no group event");
    await carol.sync();
  });

  it("a member's post or deletion in the author's feed", async () => {
    const feed = await friendsFeed(bob);
    await modified(bob).sendBodyUnchecked(feed, { type: "post", text: "Alice says: send money", images: [] });
    await modified(bob).sendBodyUnchecked(feed, { type: "post-delete", post: postId });
    const rejected = eventsOf(await carol.sync(), "rejected").map((r) => r.reason);
    assert.deepEqual(rejected, ["not_post_owner", "not_post_owner"]);
    const atAlice = eventsOf(await alice.sync(), "rejected").map((r) => r.reason);
    assert.deepEqual(atAlice, ["not_post_owner", "not_post_owner"]);
    assert.deepEqual(
      (await carol.feed()).map((p) => p.text),
      ["the real post"],
    );
  });

  it("a comment or like on a post that does not exist, a chat message in a feed, an empty post", async () => {
    const feed = await friendsFeed(bob);
    await modified(bob).sendBodyUnchecked(feed, { type: "post-comment", post: "NoSuchPost123", text: "hi" });
    await modified(bob).sendBodyUnchecked(feed, { type: "post-like", post: "NoSuchPost123", on: true });
    await modified(bob).sendBodyUnchecked(feed, { type: "text", text: "a chat line" });
    const rejected = eventsOf(await alice.sync(), "rejected").map((r) => r.reason);
    assert.deepEqual(rejected, ["unknown_post", "unknown_post", "not_a_feed"]);
    const mine = await alice.feed({ from: "me" });
    assert.deepEqual(mine[0]!.comments, []);
    assert.deepEqual(mine[0]!.likes, []);
  });

  it("the post's audience sees a comment, also those who do not know the commenter", async () => {
    await bob.comment(postId, "first!");
    await bob.like(postId);
    const seen = eventsOf(await carol.sync(), "post").map((e) => [e.change, e.by.relation]);
    assert.deepEqual(seen, [
      ["comment", "member"],
      ["like", "member"],
    ]);
    const atCarol = (await carol.feed())[0]!;
    assert.deepEqual(
      atCarol.comments.map((c) => c.text),
      ["first!"],
    );
    assert.equal(atCarol.likes.length, 1);
  });

  it("the sender refuses what receivers would drop", async () => {
    await rejects(alice.post({ text: "" }), "bad_post");
    await rejects(alice.post({ text: "x".repeat(10_001) }), "bad_post");
    await rejects(alice.post({ text: "soon", expiresInMs: 10 }), "bad_post");
    await rejects(bob.comment(postId, "x".repeat(2001)), "too_long");
    await rejects(bob.comment("zzzzzz", "hello"), "unknown_post");
    await rejects(bob.deletePost(postId), "not_your_post");
    await rejects(alice.post({ text: "to nobody", audience: "Nobody" }), "unknown_audience");
  });
});
