/**
 * Friends-only posts (issue 12), the rest: an expired and a deleted post are gone from every
 * profile's files and their photos from the relay (uploaded once, EXIF removed); bad input gets a
 * code and sends nothing; the relay's files hold no post text, audience name, comment or like.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { jpegWithGps } from "./files-helpers.js";
import { parley, parleyJson, type RelayProcess, startRelayProcess, tempDir } from "./helpers.js";
import { code, connect, feed, holds, type PostJson, texts } from "./posts-helpers.js";

let relay: RelayProcess;
const alice = tempDir("pl-alice");
const bob = tempDir("pl-bob");
const carol = tempDir("pl-carol");
const work = tempDir("pl-work");
const blobFiles = () => readdirSync(join(relay.dataDir, "relay-blobs"));

before(async () => {
  relay = await startRelayProcess(tempDir("pl-relay"));
  for (const [home, name] of [
    [alice, "Alice"],
    [bob, "Bob"],
    [carol, "Carol"],
  ] as const)
    await parleyJson(home, "init", "--name", name, "--server", relay.url);
  await connect(alice, bob);
  await connect(alice, carol);
  await parleyJson(alice, "audience", "create", "Close friends", "Bob", "Carol");
  await parleyJson(alice, "post", "what shall we cook?");
  await parleyJson(alice, "post", "only for close friends", "--audience", "Close friends");
  await parleyJson(bob, "sync");
  const [cook] = await parleyJson<PostJson[]>(bob, "feed", "--limit", "1");
  await parleyJson(bob, "comment", `#${cook!.id}`, "pasta, surely");
  await parleyJson(bob, "like", `#${cook!.id}`);
});
after(async () => {
  await relay?.stop();
});

test("an expired post, and a deleted one, are gone from every store; their photos from the relay", async () => {
  const { bytes } = jpegWithGps();
  const photo = join(work, "beach.jpg");
  writeFileSync(photo, bytes);
  const blobsBefore = new Set(blobFiles());
  const short = await parleyJson<PostJson>(
    alice,
    "post",
    "vanishing soon",
    "--image",
    photo,
    "--expire",
    "20s",
  );
  assert.deepEqual(short.images[0]!.removed.slice(0, 2), ["location", "camera"]);
  const blob = blobFiles().find((f) => !blobsBefore.has(f));
  assert.ok(blob, "one upload for the photo");
  const onCarol = (await feed(carol)).find((p) => p.id === short.id)!;
  assert.equal(onCarol.images.length, 1);
  const out = join(work, "carol-beach.jpg");
  await parleyJson(carol, "get-file", `#${onCarol.images[0]!.id}`, out);
  assert.equal(readFileSync(out).includes(Buffer.from("GPS 48.8584N")), false, "EXIF removed");
  await parleyJson(bob, "sync");
  const left = Date.parse(short.expiresAt!) - Date.now();
  await new Promise((r) => setTimeout(r, Math.max(0, left) + 500));
  for (const home of [alice, bob, carol]) {
    assert.ok(!texts(await feed(home)).includes("vanishing soon"));
    assert.equal(holds(home, "vanishing soon"), undefined, "the text is nowhere in the profile");
  }
  assert.ok(!blobFiles().includes(blob), "its author's device deleted the photo from the relay");

  const doomed = await parleyJson<PostJson>(alice, "post", "regrettable post", "--image", photo);
  const doomedBlob = blobFiles().find((f) => !blobsBefore.has(f))!;
  await parleyJson(bob, "sync");
  await parleyJson(bob, "comment", `#${doomed.id}`, "a comment on it");
  const deleted = await parleyJson<{ id: string }>(alice, "post", "delete", `#${doomed.id}`);
  assert.equal(deleted.id, doomed.id);
  assert.ok(!blobFiles().includes(doomedBlob), "its photo's blob is gone at once");
  for (const home of [alice, bob, carol]) {
    assert.ok(!texts(await feed(home)).includes("regrettable post"));
    assert.equal(holds(home, "regrettable post"), undefined);
    assert.equal(holds(home, "a comment on it"), undefined);
  }
  assert.equal(await code(bob, "get-file", `#${doomed.images[0]!.id}`, join(work, "x.jpg")), "unknown_file");
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
  const old = (await feed(bob)).find((p) => p.text === "only for close friends")!;
  await parleyJson(alice, "audience", "remove", "Close friends", "Bob");
  await parleyJson(bob, "sync");
  assert.equal(await code(bob, "like", `#${old.id}`), "not_in_audience");
  assert.equal(await code(bob, "comment", `#${old.id}`, "still here?"), "not_in_audience");
  assert.equal(await code(carol, "post", "delete", `#${old.id}`), "not_your_post");
  assert.equal((await feed(bob)).length, feedBefore);
});

test("the relay's files hold no post text, audience name, comment or like", async () => {
  await relay.stop();
  try {
    for (const needle of [
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
