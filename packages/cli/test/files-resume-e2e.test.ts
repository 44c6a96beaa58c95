/**
 * An upload and a download killed midway (the process group killed) resume from where they
 * stopped, through a real relay process and real CLI profiles, and the result is byte-identical.
 */
import assert from "node:assert/strict";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { spawnCli } from "@parley/testkit";
import { type FileJson, type FilesWorld, filesWorld, MB, sha } from "./files-helpers.js";
import { parleyJson } from "./helpers.js";

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
  const partial = join(bob, "downloads", `${resumed.file.id}.blob`);
  const getter = spawnCli(bob, ["--json", "get-file", resumed.file.id, out], { deadlineMs: 120_000 });
  await until(() => sizeOf(partial) >= 8 * MB, 60_000, "part of the download");
  getter.kill();
  await getter.closed(10_000).catch(() => {});
  assert.equal(existsSync(out), false, "no half file where the file goes");
  const kept = sizeOf(partial);
  assert.ok(kept > 0 && kept < 41 * MB);
  await parleyJson(bob, "get-file", resumed.file.id, out);
  assert.equal(sha(out), sha(path));
});
