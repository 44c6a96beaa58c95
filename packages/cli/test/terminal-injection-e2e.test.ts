/**
 * A contact must not be able to forge lines on the CLI user's terminal: through a real relay and
 * two real CLI profiles, Mallory sends text with a newline and a fake `[time] Carol:` line, a
 * carriage return, an ANSI clear-screen, OSC 52 (clipboard write) and OSC 8 (hyperlink). Alice's
 * human output of sync, messages and listen shows all of it escaped, the forgery on a marked
 * continuation line; --json gives back the exact text. Names with control characters are refused.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { spawnCli } from "@parley/testkit";
import { parley, parleyJson, type RelayProcess, startRelayProcess, tempDir } from "./helpers.js";

interface Msg {
  from: string;
  text: string;
}

const FORGED_LINE = "[2026-01-01 10:00] Carol: transfer the money";
const EVIL = [
  `hi\n${FORGED_LINE}`,
  "\rOVERWRITTEN",
  "\x1b[2J",
  "\x1b]52;c;ZXZpbA==\x07",
  "\x1b]8;;https://evil.example/\x1b\\click me\x1b]8;;\x1b\\",
  "\u202eevil",
  "\n! Carol: IDENTITY CHANGED — compare safety numbers again",
  "\n* Carol is now your contact",
  "end",
].join(" ");

let relay: RelayProcess;
const alice = tempDir("ti-alice");
const mallory = tempDir("ti-mallory");

before(async () => {
  relay = await startRelayProcess(tempDir("ti-relay"));
  await parleyJson(alice, "init", "--name", "Alice", "--server", relay.url);
  await parleyJson(mallory, "init", "--name", "Mallory", "--server", relay.url);
  const { link } = await parleyJson<{ link: string }>(alice, "invite");
  await parleyJson(mallory, "accept", link);
  await parleyJson(alice, "sync"); // Mallory's intro
});
after(async () => {
  await relay?.stop();
});

/** Human output that nobody else's text has tampered with. */
function assertSafe(stdout: string) {
  assert.doesNotMatch(stdout, /[\x1b\r\x07\x9b\u202e]/, `raw control character in ${JSON.stringify(stdout)}`);
  const lines = stdout.split("\n");
  for (const line of lines) {
    assert.ok(!line.startsWith(FORGED_LINE), `forged line: ${JSON.stringify(line)}`);
    assert.ok(!/^[!*] Carol/.test(line), `forged notice: ${JSON.stringify(line)}`);
    // Every message line is Mallory's, or a marked continuation of one.
    if (line.startsWith("[")) assert.match(line, /^\[[^\]]+\] Mallory: /);
  }
  assert.ok(stdout.includes(`\n  | ${FORGED_LINE} \\rOVERWRITTEN \\x1b[2J \\x1b]52;c;ZXZpbA==\\x07`));
  assert.ok(stdout.includes("\\x1b]8;;https://evil.example/\\x1b\\click me"));
  assert.ok(stdout.includes("\\u202eevil"));
}

test("sync and messages print a contact's control characters escaped, never a forged line", async () => {
  await parleyJson(mallory, "send", "Alice", EVIL);
  const sync = await parley(alice, "sync");
  assert.equal(sync.code, 0, sync.stderr);
  assertSafe(sync.stdout);

  const history = await parley(alice, "messages", "Mallory");
  assert.equal(history.code, 0, history.stderr);
  assertSafe(history.stdout);
});

test("--json keeps the exact text and still puts no raw control character on the terminal", async () => {
  const history = await parley(alice, "--json", "messages", "Mallory");
  assert.equal(history.code, 0);
  assert.doesNotMatch(history.stdout, /[\x1b\r\x07\u202e]/);
  assert.deepEqual(
    (JSON.parse(history.stdout) as Msg[]).map((m) => [m.from, m.text]),
    [["Mallory", EVIL]],
  );

  await parleyJson(mallory, "send", "Alice", `${EVIL} again`);
  const sync = await parley(alice, "--json", "sync");
  assert.doesNotMatch(sync.stdout, /[\x1b\r\x07\u202e]/);
  assert.deepEqual(
    (JSON.parse(sync.stdout) as Msg[]).map((m) => m.text),
    [`${EVIL} again`],
  );
});

test("listen prints a contact's control characters escaped, never a forged line", async () => {
  const listen = spawnCli(alice, ["listen"]);
  const child = listen.child;
  try {
    let stdout = "";
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`listen printed: ${JSON.stringify(stdout)}`)), 20_000);
      child.stdout!.on("data", (d) => {
        stdout += d;
        if (stdout.includes("end live\n")) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    // Give the socket a moment to subscribe; delivery does not depend on it (the queue keeps it).
    await new Promise((r) => setTimeout(r, 500));
    await parleyJson(mallory, "send", "Alice", `${EVIL} live`);
    await done;
    assertSafe(stdout);
  } finally {
    await listen.stop();
  }
});

test("display and group names with control characters are refused, with a clear error", async () => {
  const home = tempDir("ti-eve");
  for (const name of [
    `Eve\n${FORGED_LINE}`,
    "Eve\rCarol",
    "Eve\x1b[2J",
    "\u202eevE",
    "Eve\u2028Carol",
    "Eve\u0085x",
  ]) {
    const r = await parley(home, "init", "--name", name, "--server", relay.url);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^parley: a display name must be one line without control, bidirectional or invisible formatting characters \(found U\+[0-9A-F]{4}\)\n$/,
    );
    const j = await parley(home, "--json", "init", "--name", name, "--server", relay.url);
    assert.equal(JSON.parse(j.stdout).code, "bad_name");
  }
  const g = await parley(alice, "--json", "group", "create", `Book club\n${FORGED_LINE}`);
  assert.equal(g.code, 1);
  assert.equal(JSON.parse(g.stdout).code, "bad_name");
  // Chinese and emoji names are fine.
  await parleyJson(home, "init", "--name", "王小明 👩\u200d💻", "--server", relay.url);
});
