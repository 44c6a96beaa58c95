/**
 * The CLI profile on disk: private to its owner (0700 folder, 0600 files, whatever existed before),
 * a left group's MLS secrets gone from the file, and a clear one-line error (no stack trace) when
 * the profile path is a file or the database is damaged.
 */
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import Database from "better-sqlite3";
import { parley, parleyJson, type RelayProcess, startRelayProcess, tempDir } from "./helpers.js";

let relay: RelayProcess;
before(async () => {
  relay = await startRelayProcess(tempDir("safety-relay"));
});
after(async () => {
  await relay?.stop();
});

const mode = (path: string) => statSync(path).mode & 0o777;

test("a profile folder and its files are private, even in a folder that existed before", async () => {
  const home = join(tempDir("safety-home"), "existing");
  mkdirSync(home, { mode: 0o755 });
  chmodSync(home, 0o755);
  await parleyJson(home, "init", "--name", "Alice", "--server", relay.url);
  await parleyJson(home, "invite");
  assert.equal(mode(home).toString(8), "700");
  for (const name of readdirSync(home)) {
    assert.equal(mode(join(home, name)).toString(8), "600", `${name} is readable by its owner only`);
  }
  // A database made world-readable by someone else is put right the next time the profile opens.
  chmodSync(join(home, "parley.sqlite"), 0o644);
  await parleyJson(home, "contacts");
  assert.equal(mode(join(home, "parley.sqlite")).toString(8), "600");
});

test("a left group's MLS secrets do not stay in the profile file", async () => {
  const home = tempDir("safety-leaver");
  await parleyJson(home, "init", "--name", "Leaver", "--server", relay.url);
  await parleyJson(home, "group", "create", "Short lived");
  await parleyJson(home, "send", "Short lived", "note to self");
  const db = new Database(join(home, "parley.sqlite"), { readonly: true });
  const rows = db.prepare("SELECT value FROM kv WHERE key LIKE 'mls/%'").all() as { value: Buffer }[];
  const others = db.prepare("SELECT value FROM kv WHERE key NOT LIKE 'mls/%'").all() as { value: Buffer }[];
  db.close();
  assert.ok(rows.length > 0, "the group has MLS state before leaving");
  // 32-byte windows of the serialized state (epoch secrets, ratchet tree and key schedule), less
  // what the profile keeps elsewhere anyway (our own public device key is in the profile record).
  const windows = rows.flatMap((r) => {
    const out: Buffer[] = [];
    for (let i = 0; i + 32 <= r.value.length; i += 32) out.push(r.value.subarray(i, i + 32));
    return out.filter((w) => !others.some((o) => o.value.includes(w)));
  });
  assert.ok(windows.length >= 8);

  await parleyJson(home, "group", "leave", "Short lived");
  const files = readdirSync(home).map((name) => readFileSync(join(home, name)));
  const found = windows.filter((w) => files.some((f) => f.includes(w)));
  assert.equal(
    found.length,
    0,
    `${found.length} of ${windows.length} pieces of the left group's state remain`,
  );
});

test("a profile path that is a file gives one clear line, no stack trace", async () => {
  const file = join(tempDir("safety-file"), "not-a-folder");
  writeFileSync(file, "hello");
  const r = await parley(file, "contacts");
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^parley: the profile path .* is not a folder/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  const j = await parley(file, "--json", "contacts");
  assert.equal(JSON.parse(j.stdout).code, "bad_profile");
});

test("a damaged profile database gives one clear line, no stack trace", async () => {
  const home = tempDir("safety-corrupt");
  writeFileSync(join(home, "parley.sqlite"), Buffer.alloc(8192, 0x5a));
  const r = await parley(home, "contacts");
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^parley: cannot open the profile database .* damaged or not a Parley profile/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  assert.equal(r.stderr.trim().split("\n").length, 1);
});
