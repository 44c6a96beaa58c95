/**
 * An upload and a download killed midway (the process group killed) resume from where they
 * stopped, through a real relay process and real CLI profiles, and the result is byte-identical.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { spawnCli } from "@parley/testkit";
import { type FileJson, type FilesWorld, filesWorld, MB, sha } from "./files-helpers.js";
import { parley, parleyJson } from "./helpers.js";

let w: FilesWorld;
let alice: string;
let bob: string;

before(async () => {
  w = await filesWorld(["Alice", "Bob"]);
  alice = w.homes["Alice"]!;
  bob = w.homes["Bob"]!;
});
after(async () => {
  await w?.relay.stop();
});

/** Waits until `check` holds, polling. */
async function until(check: () => boolean, ms: number, what: string) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const sizeOf = (path: string) => (existsSync(path) ? statSync(path).size : 0);

test("an upload and a download killed midway resume, and the result is byte-identical", async () => {
  const path = w.randomFile("backup.tar", 40 * MB);
  const before = new Set(w.blobFiles());
  // Kill the sender once the relay holds part of the blob.
  const sender = spawnCli(alice, ["--json", "send-file", "Bob", path], { deadlineMs: 120_000 });
  await until(
    () =>
      w.blobFiles().some((f) => !before.has(f) && sizeOf(join(w.relay.dataDir, "relay-blobs", f)) >= 8 * MB),
    60_000,
    "part of the upload",
  );
  sender.kill();
  await sender.closed(10_000).catch(() => {});
  const resumed = await parleyJson<{ file: FileJson; resumedFrom: number }>(alice, "send-file", "Bob", path);
  assert.ok(resumed.resumedFrom > 0, "the second attempt went on from where the first stopped");
  assert.equal(w.blobFiles().length, before.size + 1, "the same blob, not a second one");

  await parleyJson(bob, "sync");
  const out = join(w.work, "bob-backup.tar");
  // The plaintext is written once, to a hidden part beside the output, which a resume goes on from.
  const partial = join(w.work, ".bob-backup.tar.parley-part");
  const getter = spawnCli(bob, ["--json", "get-file", resumed.file.id, out], { deadlineMs: 120_000 });
  await until(() => sizeOf(partial) >= 8 * MB, 60_000, "part of the download");
  getter.kill();
  await getter.closed(10_000).catch(() => {});
  assert.equal(existsSync(out), false, "no half file where the file goes");
  const kept = sizeOf(partial);
  assert.ok(kept > 0 && kept < 41 * MB);
  const got = await parleyJson<{ resumedFrom: number }>(bob, "get-file", resumed.file.id, out);
  assert.ok(got.resumedFrom >= 256 * 1024, `the download went on from what was kept (${got.resumedFrom})`);
  assert.equal(sha(out), sha(path));
  assert.equal(existsSync(partial), false, "the part became the file");
});

test("a kept part altered between attempts is refused, dropped, and the next attempt starts over", async () => {
  const path = w.randomFile("photos.tar", 20 * MB);
  const sent = await parleyJson<{ file: FileJson }>(alice, "send-file", "Bob", path);
  await parleyJson(bob, "sync");
  const out = join(w.work, "bob-photos.tar");
  const partial = join(w.work, ".bob-photos.tar.parley-part");
  const getter = spawnCli(bob, ["--json", "get-file", sent.file.id, out], { deadlineMs: 120_000 });
  await until(() => sizeOf(partial) >= 2 * MB, 60_000, "part of the download");
  getter.kill();
  await getter.closed(10_000).catch(() => {});
  // One bit of the kept plaintext flipped: the ciphertext derived from it no longer hashes right.
  const kept = readFileSync(partial);
  kept[300_000] = kept[300_000]! ^ 1;
  writeFileSync(partial, kept);
  const r = await parley(bob, "--json", "get-file", sent.file.id, out);
  assert.equal(r.code, 1);
  assert.equal(JSON.parse(r.stdout).code, "file_tampered");
  assert.equal(existsSync(out), false, "nothing saved");
  assert.equal(existsSync(partial), false, "the altered part is dropped");
  const again = await parleyJson<{ resumedFrom: number }>(bob, "get-file", sent.file.id, out);
  assert.equal(again.resumedFrom, 0);
  assert.equal(sha(out), sha(path));
});
