/**
 * Secrets stay off the command line: `parley send TO` and `parley accept` read the message text
 * and the invite link from standard input when the argument is omitted or "-" (anything in argv is
 * readable by every user of the machine through /proc/PID/cmdline).
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { runCli } from "@parley/testkit";
import { type CliResult, parleyJson, type RelayProcess, startRelayProcess, tempDir } from "./helpers.js";

let relay: RelayProcess;
const alice = tempDir("stdin-alice");
const bob = tempDir("stdin-bob");

/** Runs the CLI with `input` on standard input; killed (whole process group) after a deadline. */
const parleyWithInput = (home: string, input: string, ...args: string[]): Promise<CliResult> =>
  runCli(home, args, { input });

before(async () => {
  relay = await startRelayProcess(tempDir("stdin-relay"));
  await parleyJson(alice, "init", "--name", "Alice", "--server", relay.url);
  await parleyJson(bob, "init", "--name", "Bob", "--server", relay.url);
});
after(async () => {
  await relay?.stop();
});

test("an invite link and a message given on standard input, not in argv", async () => {
  const { link } = await parleyJson<{ link: string }>(alice, "invite");
  const accepted = await parleyWithInput(bob, `${link}\n`, "--json", "accept");
  assert.equal(accepted.code, 0, accepted.stderr);
  assert.equal(JSON.parse(accepted.stdout).name, "Alice");
  await parleyJson(alice, "sync");

  const secret = "meet at the usual place\nsecond line";
  const sent = await parleyWithInput(bob, `${secret}\n`, "--json", "send", "Alice");
  assert.equal(sent.code, 0, sent.stderr);
  const dash = await parleyWithInput(bob, "with a dash", "--json", "send", "Alice", "-");
  assert.equal(dash.code, 0, dash.stderr);
  const got = await parleyJson<{ text: string }[]>(alice, "sync");
  assert.deepEqual(
    got.map((m) => m.text),
    [secret, "with a dash"],
  );
});
