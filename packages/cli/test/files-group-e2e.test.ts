/**
 * A 50 MB file in a group of three, through a real relay process and real CLI profiles: uploaded
 * once (one blob for the group), fetched byte-identical by both other members, with each process's
 * peak memory measured against the same commands moving a 1 MB file.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type FileJson, type FilesWorld, filesWorld, MB, sha } from "./files-helpers.js";
import { parleyJson } from "./helpers.js";

let w: FilesWorld;
let alice: string;
let bob: string;
let carol: string;
const baseline = { send: 0, get: 0 };

before(async () => {
  w = await filesWorld(["Alice", "Bob", "Carol"]);
  alice = w.homes["Alice"]!;
  bob = w.homes["Bob"]!;
  carol = w.homes["Carol"]!;
  await parleyJson(alice, "group", "create", "Trip");
  await parleyJson(alice, "group", "add", "Trip", "Bob", "Carol");
  await parleyJson(bob, "sync");
  await parleyJson(carol, "sync");
  const small = w.randomFile("small.bin", MB);
  const sent = await w.measured<{ file: FileJson }>(alice, "send-file", "Trip", small);
  await parleyJson(bob, "sync");
  baseline.send = sent.rss;
  baseline.get = (await w.measured(bob, "get-file", sent.value.file.id, join(w.work, "bob-small.bin"))).rss;
});
after(async () => {
  await w?.relay.stop();
});

test("a 50 MB file in a group of three is uploaded once and fetched by both others", async () => {
  const blobsBefore = w.blobFiles().length;
  const path = w.randomFile("photos.zip", 50 * MB);
  const sent = await w.measured<{ file: FileJson }>(alice, "send-file", "Trip", path);
  assert.equal(w.blobFiles().length, blobsBefore + 1, "one blob for the whole group");
  // Both members fetch at once, each in its own process.
  await Promise.all(
    [bob, carol].map(async (home) => {
      await parleyJson(home, "sync");
      const out = join(w.work, `${home.split("/").pop()}-photos.zip`);
      const got = await w.measured(home, "get-file", sent.value.file.id, out);
      assert.equal(sha(out), sha(path));
      const grew = got.rss - baseline.get;
      assert.ok(grew < 25 * MB, `get-file grew by ${(grew / MB).toFixed(1)} MiB`);
    }),
  );
  const grew = sent.rss - baseline.send;
  assert.ok(grew < 25 * MB, `send-file grew by ${(grew / MB).toFixed(1)} MiB`);
});
