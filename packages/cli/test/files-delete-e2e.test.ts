/**
 * Early deletion, through a real relay process and real CLI profiles: the sender deletes a file it
 * sent (`parley delete-file`, with the delete capability its upload returned, kept on the sender's
 * device only), the relay drops the bytes at once, and a recipient who then tries to fetch it is
 * told `file_deleted` (the sender deleted it), not `file_gone` (it expired), by code.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import Database from "better-sqlite3";
import { type FileJson, type FilesWorld, filesWorld } from "./files-helpers.js";
import { parley, parleyJson } from "./helpers.js";

interface DeletableJson extends FileJson {
  deletable: boolean;
  deleted: boolean;
}

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

test("the sender deletes a file from the relay; the recipient is told the sender deleted it", async () => {
  const path = w.randomFile("draft.pdf", 600_000);
  const before = new Set(w.blobFiles());
  const sent = await parleyJson<{ file: DeletableJson }>(alice, "send-file", "Bob", path);
  const blob = w.blobFiles().find((f) => !before.has(f))!;
  assert.ok(blob, "the upload left a blob on the relay");
  assert.equal(sent.file.deletable, true, "the sender can delete what it sent");
  await parleyJson(bob, "sync");

  // The capability is in the sender's own store only: nothing the recipient holds can delete it.
  const bobList = await parleyJson<DeletableJson[]>(bob, "files", "Alice");
  assert.equal(bobList[0]!.deletable, false);
  const refused = await parley(bob, "--json", "delete-file", sent.file.id);
  assert.equal(refused.code, 1);
  assert.equal(JSON.parse(refused.stdout).code, "not_deletable");
  assert.ok(w.blobFiles().includes(blob), "a refused delete changes nothing");

  const deleted = await parleyJson<DeletableJson>(alice, "delete-file", sent.file.id);
  assert.equal(deleted.id, sent.file.id);
  assert.equal(deleted.deleted, true);
  assert.equal(deleted.deletable, false);
  assert.equal(w.blobFiles().includes(blob), false, "the relay dropped the bytes at once");
  const again = await parley(alice, "--json", "delete-file", sent.file.id);
  assert.equal(again.code, 0, "deleting again is no error");
  const human = await parley(alice, "files", "Bob");
  assert.match(human.stdout, /deleted from the relay by its sender/);

  const out = join(w.work, "bob-draft.pdf");
  const r = await parley(bob, "--json", "get-file", sent.file.id, out);
  assert.equal(r.code, 1);
  assert.equal(JSON.parse(r.stdout).code, "file_deleted");
  assert.equal(existsSync(out), false, "nothing saved");
  const words = await parley(bob, "get-file", sent.file.id, out);
  assert.match(words.stderr, /the sender deleted this file/);
  const after = await parleyJson<DeletableJson[]>(bob, "files", "Alice");
  assert.equal(after[0]!.deleted, true, "the recipient's list shows it as deleted from now on");
});

test("a file the relay no longer holds for another reason (expired) is file_gone, not file_deleted", async () => {
  const path = w.randomFile("old.bin", 100_000);
  const sent = await parleyJson<{ file: DeletableJson }>(alice, "send-file", "Bob", path);
  await parleyJson(bob, "sync");
  // What the relay's sweep does at expiry: the row goes (then the bytes).
  const db = new Database(join(w.relay.dataDir, "relay.sqlite"));
  try {
    db.pragma("busy_timeout = 5000");
    const blobIds = db.prepare("SELECT blob_id FROM blobs WHERE deleted = 0").pluck().all() as string[];
    assert.ok(blobIds.length >= 1);
    db.prepare("DELETE FROM blobs WHERE deleted = 0").run();
  } finally {
    db.close();
  }
  const r = await parley(bob, "--json", "get-file", sent.file.id, join(w.work, "bob-old.bin"));
  assert.equal(r.code, 1);
  assert.equal(JSON.parse(r.stdout).code, "file_gone");
  // The sender's delete of an expired file is no error either: it is gone all the same.
  const deleted = await parleyJson<DeletableJson>(alice, "delete-file", sent.file.id);
  assert.equal(deleted.deleted, true);
});
