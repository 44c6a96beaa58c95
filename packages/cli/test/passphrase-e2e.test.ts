/**
 * The CLI profile under a passphrase, and `parley wipe` (issue 13), through real CLI processes and
 * a real relay: once set, the profile file holds no message text and no key in the clear; commands
 * need the passphrase (PARLEY_PASSPHRASE) and a wrong or missing one fails with a code before
 * anything is read; change and remove keep every record; wipe leaves nothing behind.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runCli } from "@parley/testkit";
import { parleyJson, type RelayProcess, startRelayProcess, tempDir } from "./helpers.js";

let relay: RelayProcess;
const alice = tempDir("pass-alice");
const bob = tempDir("pass-bob");
const SECRET_TEXT = "the meeting point is the old mill";

const withEnv = (env: Record<string, string>, ...args: string[]) =>
  runCli(alice, ["--json", ...args], { env: { ...process.env, ...env } });
const code = (r: { stdout: string }) => (JSON.parse(r.stdout) as { code?: string }).code;

before(async () => {
  relay = await startRelayProcess(tempDir("pass-relay"));
  await parleyJson(alice, "init", "--name", "Alice", "--server", relay.url);
  await parleyJson(bob, "init", "--name", "Bob", "--server", relay.url);
  const { link } = await parleyJson<{ link: string }>(alice, "invite");
  await parleyJson(bob, "accept", link);
  await parleyJson(alice, "sync");
  await parleyJson(bob, "send", "Alice", SECRET_TEXT);
  await parleyJson(alice, "sync");
});
after(async () => {
  await relay?.stop();
});

const profileBytes = () => readFileSync(join(alice, "parley.sqlite"));

test("passphrase set, use, change, remove; then wipe", async () => {
  assert.ok(profileBytes().includes(SECRET_TEXT), "before: the text is in the file (the test can see it)");
  const set = await withEnv({ PARLEY_NEW_PASSPHRASE: "first pass phrase" }, "passphrase", "set");
  assert.equal(set.code, 0, set.stdout + set.stderr);
  const bytes = profileBytes();
  assert.ok(!bytes.includes(SECRET_TEXT), "the message text is still readable in the profile file");
  assert.ok(!bytes.includes("identitySecretKey"), "the profile record is still readable");

  // No passphrase (no terminal to ask on), a wrong one: refused with a code, nothing read.
  const locked = await withEnv({ PARLEY_PASSPHRASE: "" }, "messages", "Bob");
  assert.notEqual(locked.code, 0);
  assert.equal(code(locked), "locked");
  const wrong = await withEnv({ PARLEY_PASSPHRASE: "not it" }, "messages", "Bob");
  assert.equal(code(wrong), "wrong_passphrase");
  const read = await withEnv({ PARLEY_PASSPHRASE: "first pass phrase" }, "messages", "Bob");
  assert.equal(read.code, 0, read.stderr);
  assert.equal((JSON.parse(read.stdout) as { text: string }[])[0]?.text, SECRET_TEXT);
  // It keeps working: a new message arrives and is stored sealed.
  await parleyJson(bob, "send", "Alice", "second secret");
  assert.equal((await withEnv({ PARLEY_PASSPHRASE: "first pass phrase" }, "sync")).code, 0);
  assert.ok(!profileBytes().includes("second secret"));

  const change = await withEnv(
    { PARLEY_PASSPHRASE: "first pass phrase", PARLEY_NEW_PASSPHRASE: "second pass phrase" },
    "passphrase",
    "change",
  );
  assert.equal(change.code, 0, change.stdout + change.stderr);
  assert.equal(
    code(await withEnv({ PARLEY_PASSPHRASE: "first pass phrase" }, "contacts")),
    "wrong_passphrase",
  );
  const after = await withEnv({ PARLEY_PASSPHRASE: "second pass phrase" }, "messages", "Bob");
  assert.deepEqual(
    (JSON.parse(after.stdout) as { text: string }[]).map((m) => m.text),
    [SECRET_TEXT, "second secret"],
  );

  const removed = await withEnv({ PARLEY_PASSPHRASE: "second pass phrase" }, "passphrase", "remove");
  assert.equal(removed.code, 0, removed.stdout + removed.stderr);
  assert.equal((await parleyJson<unknown[]>(alice, "messages", "Bob")).length, 2);

  const unconfirmed = await runCli(alice, ["wipe"]);
  assert.notEqual(unconfirmed.code, 0);
  assert.ok(existsSync(join(alice, "parley.sqlite")));
  const wiped = await parleyJson<{ values: number; files: string[] }>(alice, "wipe", "--yes");
  assert.ok(wiped.values > 10 && wiped.files.includes("parley.sqlite"));
  assert.equal(existsSync(alice), false, "the profile folder is still there");
});
