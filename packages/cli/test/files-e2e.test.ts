/**
 * A 50 MB file round-trips 1:1 through a real relay process and two real CLI profiles, with the
 * peak memory of the sending and the receiving process measured against the same commands moving a
 * 1 MB file (what the CLI needs whatever the size). Groups: files-group-e2e; resuming:
 * files-resume-e2e; everything else that must not hurt: files-safety-e2e.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type FileJson, type FilesWorld, filesWorld, MB, sha } from "./files-helpers.js";
import { parleyJson } from "./helpers.js";

let w: FilesWorld;
let alice: string;
let bob: string;
/** Peak RSS of send-file and get-file moving a 1 MB file. */
const baseline = { send: 0, get: 0 };

before(async () => {
  w = await filesWorld(["Alice", "Bob"]);
  alice = w.homes["Alice"]!;
  bob = w.homes["Bob"]!;
  const small = w.randomFile("small.bin", MB);
  const sent = await w.measured<{ file: FileJson }>(alice, "send-file", "Bob", small);
  await parleyJson(bob, "sync");
  baseline.send = sent.rss;
  baseline.get = (await w.measured(bob, "get-file", sent.value.file.id, join(w.work, "bob-small.bin"))).rss;
});
after(async () => {
  await w?.relay.stop();
});

test("a 50 MB file round-trips 1:1 with each process's memory well below the file's size", async () => {
  const path = w.randomFile("video.bin", 50 * MB);
  const sent = await w.measured<{ file: FileJson }>(
    alice,
    "send-file",
    "Bob",
    path,
    "--caption",
    "the whole thing",
  );
  assert.equal(sent.value.file.size, 50 * MB);
  await parleyJson(bob, "sync");
  const list = await parleyJson<FileJson[]>(bob, "files", "Alice");
  assert.deepEqual(
    list.map((f) => [f.name, f.size]),
    [
      ["small.bin", MB],
      ["video.bin", 50 * MB],
    ],
  );
  const out = join(w.work, "bob-video.bin");
  const got = await w.measured<{ path: string }>(bob, "get-file", sent.value.file.id, out);
  assert.equal(got.value.path, out);
  assert.equal(sha(out), sha(path));
  const growth = { send: sent.rss - baseline.send, get: got.rss - baseline.get };
  console.log(
    `peak RSS, 1 MB → 50 MB: send-file ${(baseline.send / MB).toFixed(0)} → ${(sent.rss / MB).toFixed(0)} MiB, get-file ${(baseline.get / MB).toFixed(0)} → ${(got.rss / MB).toFixed(0)} MiB`,
  );
  assert.ok(
    growth.send < 25 * MB,
    `send-file grew by ${(growth.send / MB).toFixed(1)} MiB for a 50 MiB file`,
  );
  assert.ok(growth.get < 25 * MB, `get-file grew by ${(growth.get / MB).toFixed(1)} MiB for a 50 MiB file`);
  // Nothing is left behind: no ciphertext in the profile, no part beside the file.
  assert.equal(existsSync(join(bob, "downloads")), false);
  assert.deepEqual(
    readdirSync(w.work).filter((f) => f.endsWith(".parley-part")),
    [],
  );
});
