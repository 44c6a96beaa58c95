/**
 * Friends-only posts (issue 12, docs/04-posts.md) through a real relay and five real CLI profiles:
 * a post reaches its audience and nobody else; a member removed from an audience, or a blocked
 * contact, reads nothing later; comments and likes are seen by the post's audience (also members
 * who are not the commenter's contacts) and by nobody outside it (also the commenter's own
 * contacts); an expired and a deleted post are gone from every store, their photos from the relay;
 * the relay's files hold no post text, audience name, comment or like; bad input gets a code.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { jpegWithGps } from "./files-helpers.js";
import { parley, parleyJson, type RelayProcess, startRelayProcess, tempDir } from "./helpers.js";

interface PostJson {
  id: string;
  from: string;
  text: string;
  mine: boolean;
  audience: string | null;
  images: { id: string; name: string; removed: string[] }[];
  comments: { from: string; text: string }[];
  likes: string[];
  likedByMe: boolean;
}

let relay: RelayProcess;
const homes: Record<string, string> = {};
const [alice, bob, carol, dave, erin] = ["Alice", "Bob", "Carol", "Dave", "Erin"].map((n) => {
  homes[n] = tempDir(`p-${n.toLowerCase()}`);
  return homes[n]!;
}) as [string, string, string, string, string];
const work = tempDir("p-work");

async function connect(a: string, b: string) {
  const { link } = await parleyJson<{ link: string }>(a, "invite");
  await parleyJson(b, "accept", link);
  await parleyJson(a, "sync");
  await parleyJson(b, "sync");
}
const feed = async (home: string, ...args: string[]) => {
  await parleyJson(home, "sync");
  return parleyJson<PostJson[]>(home, "feed", ...args);
};
const texts = (posts: PostJson[]) => posts.map((p) => p.text);
/** The error code of a command that must fail. */
async function code(home: string, ...args: string[]): Promise<string> {
  const r = await parley(home, "--json", ...args);
  assert.equal(r.code, 1, `expected a failure: ${r.stdout}${r.stderr}`);
  return (JSON.parse(r.stdout) as { code: string }).code;
}
const blobFiles = () => readdirSync(join(relay.dataDir, "relay-blobs"));
/** Whether any file of a folder (a profile, the relay's data) holds `needle`. */
function holds(dir: string, needle: string): string | undefined {
  const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  return files.map((e) => join(e.parentPath, e.name)).find((f) => readFileSync(f).includes(Buffer.from(needle)));
}

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
  assert.deepEqual(made.members.map((m) => m.name), ["Bob"]);
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

test("comments and likes: the post's audience sees them, whether or not they know the commenter; nobody else", async () => {
  const post = await parleyJson<PostJson>(alice, "post", "what shall we cook?");
  await parleyJson(bob, "sync");
  const commented = await parleyJson<PostJson>(bob, "comment", `#${post.id}`, "pasta, surely");
  assert.deepEqual(commented.comments.map((c) => c.text), ["pasta, surely"]);
  await parleyJson(carol, "sync");
  await parleyJson(carol, "like", post.id.slice(0, 8));

  // Carol is in the post's audience but not Bob's contact: she sees his comment.
  const carolSees = (await feed(carol)).find((p) => p.id === post.id)!;
  assert.deepEqual(
    carolSees.comments.map((c) => [c.from, c.text]),
    [["Bob (not a contact)", "pasta, surely"]],
  );
  const aliceSees = (await feed(alice)).find((p) => p.id === post.id)!;
  assert.deepEqual(aliceSees.comments.map((c) => [c.from, c.text]), [["Bob", "pasta, surely"]]);
  assert.deepEqual(aliceSees.likes, ["Carol"]);
  const bobSees = (await feed(bob)).find((p) => p.id === post.id)!;
  assert.deepEqual(bobSees.likes, ["Carol (not a contact)"]);

  // Erin is Bob's contact but not in the post's audience: she sees neither the post nor his comment.
  await parleyJson(erin, "sync");
  assert.deepEqual(await feed(erin), []);

  const undone = await parleyJson<PostJson>(carol, "like", post.id, "--undo");
  assert.equal(undone.likedByMe, false);
  assert.deepEqual((await feed(alice)).find((p) => p.id === post.id)!.likes, []);
});

test("an expired post, and a deleted one, are gone from every store; their photos from the relay", async () => {
  const { bytes } = jpegWithGps();
  const photo = join(work, "beach.jpg");
  writeFileSync(photo, bytes);
  const blobsBefore = new Set(blobFiles());
  const short = await parleyJson<PostJson>(alice, "post", "vanishing soon", "--image", photo, "--expire", "3s");
  assert.deepEqual(short.images[0]!.removed.slice(0, 2), ["location", "camera"]);
  const blob = blobFiles().find((f) => !blobsBefore.has(f));
  assert.ok(blob, "one upload for the photo");
  const onCarol = (await feed(carol)).find((p) => p.id === short.id)!;
  assert.equal(onCarol.images.length, 1);
  const out = join(work, "carol-beach.jpg");
  await parleyJson(carol, "get-file", onCarol.images[0]!.id, out);
  assert.equal(readFileSync(out).includes(Buffer.from("GPS 48.8584N")), false, "EXIF removed");
  await parleyJson(bob, "sync");
  await new Promise((r) => setTimeout(r, 3500));
  for (const home of [alice, bob, carol]) {
    assert.ok(!texts(await feed(home)).includes("vanishing soon"));
    assert.equal(holds(home, "vanishing soon"), undefined, "the text is nowhere in the profile");
  }
  assert.ok(!blobFiles().includes(blob), "its author's device deleted the photo from the relay");

  const doomed = await parleyJson<PostJson>(alice, "post", "regrettable post", "--image", photo);
  const doomedBlob = blobFiles().find((f) => !blobsBefore.has(f))!;
  await parleyJson(bob, "sync");
  await parleyJson(bob, "comment", doomed.id, "a comment on it");
  const deleted = await parleyJson<{ id: string }>(alice, "post", "delete", doomed.id);
  assert.equal(deleted.id, doomed.id);
  assert.ok(!blobFiles().includes(doomedBlob), "its photo's blob is gone at once");
  for (const home of [alice, bob, carol, dave]) {
    assert.ok(!texts(await feed(home)).includes("regrettable post"));
    assert.equal(holds(home, "regrettable post"), undefined);
    assert.equal(holds(home, "a comment on it"), undefined);
  }
  assert.equal(await code(bob, "get-file", doomed.images[0]!.id, join(work, "x.jpg")), "unknown_file");
});

test("bad input gets a clear error, by code, and nothing is sent", async () => {
  const feedBefore = (await feed(bob)).length;
  assert.equal(await code(bob, "comment", "nosuchpost", "hello"), "unknown_post");
  assert.equal(await code(bob, "like", "nosuchpost"), "unknown_post");
  assert.equal(await code(alice, "post", "x".repeat(10_001)), "bad_post");
  assert.equal(await code(alice, "post", "too soon", "--expire", "forever"), "bad_post");
  assert.equal(await code(alice, "post", "to nobody", "--audience", "Strangers"), "unknown_audience");
  assert.equal(await code(alice, "audience", "create", "Close friends", "Carol"), "audience_exists");
  const notImage = join(work, "notes.txt");
  writeFileSync(notImage, "just text");
  assert.equal(await code(alice, "post", "a file", "--image", notImage), "bad_post");
  const words = await parley(alice, "post", "a file", "--image", notImage);
  assert.match(words.stderr, /photos must be JPEG, PNG, WebP or GIF/);
  // Bob, removed from "Close friends", cannot like or comment on a post of it he still has.
  const old = (await feed(bob)).find((p) => p.text === "close friends, with Carol")!;
  assert.equal(await code(bob, "like", old.id), "not_in_audience");
  assert.equal(await code(carol, "post", "delete", old.id), "not_your_post");
  assert.equal((await feed(bob)).length, feedBefore);
});

test("the relay's files hold no post text, audience name, comment or like", async () => {
  await relay.stop();
  try {
    for (const needle of [
      "first post to everyone",
      "only for close friends",
      "Close friends",
      "pasta, surely",
      "what shall we cook",
      "post-like",
      "post-comment",
      "Posts",
    ])
      assert.equal(holds(relay.dataDir, needle), undefined, `${needle} on the relay`);
  } finally {
    relay = await startRelayProcess(relay.dataDir, relay.port);
  }
});
