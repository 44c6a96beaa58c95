/**
 * Crash safety of the outbox with sends that do not wait for the relay (issue 14): a process
 * sealing messages back to back, its outbox delivering them in batches in the background, is
 * killed with SIGKILL. Every message whose send had returned (shown as "Sending…") reaches the
 * contact exactly once, in order, once the profile is opened again; none is lost or doubled.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { ROOT, spawnChild } from "@parley/testkit";
import { parleyJson, type RelayProcess, startRelayProcess, tempDir } from "./helpers.js";

let relay: RelayProcess;
after(async () => relay?.stop());

type Msg = { text: string; status?: string };

/** Opens `home` as the CLI does and sends `count` messages without waiting, printing each once stored. */
const SENDER = `
import { openProfile } from "@parley/node";
const [home, count] = process.argv.slice(-2);
const { client } = openProfile(home);
for (let i = 1; i <= Number(count); i++) {
  await client.send("Bob", "burst " + i, { wait: false });
  console.log("stored " + i);
}
await client.settleOutbox();
console.log("settled");
`;

test("kill -9 while a burst is being sent: every message shown as sending arrives once, in order", async () => {
  relay = await startRelayProcess(tempDir("relay"));
  const alice = tempDir("alice");
  const bob = tempDir("bob");
  await parleyJson(alice, "init", "--name", "Alice", "--server", relay.url);
  await parleyJson(bob, "init", "--name", "Bob", "--server", relay.url);
  const { link } = await parleyJson<{ link: string }>(alice, "invite");
  await parleyJson(bob, "accept", link);
  await parleyJson(alice, "sync");

  const sender = spawnChild(process.execPath, ["--input-type=module", "-e", SENDER, alice, "400"], {
    cwd: ROOT,
    deadlineMs: 120_000,
  });
  try {
    await sender.waitForOutput(/^stored 40$/m, 90_000, "40 messages stored");
  } finally {
    sender.kill();
  }
  await sender.closed(10_000);
  const stored = [...sender.stdout().matchAll(/^stored (\d+)$/gm)].map((m) => Number(m[1]));
  assert.ok(stored.length >= 40);
  assert.doesNotMatch(sender.stdout(), /settled/, "killed mid-burst");

  // The profile opened again: its outbox sends what was left; Bob gets each message once.
  await parleyJson(alice, "sync");
  const got: string[] = [];
  for (let i = 0; i < 3; i++) got.push(...(await parleyJson<Msg[]>(bob, "sync")).map((m) => m.text));
  const expected = stored.map((i) => `burst ${i}`);
  // A message sealed after the last "stored" line (the kill came in between) may arrive too.
  assert.deepEqual(got.slice(0, expected.length), expected, "every stored message, once, in order");
  assert.ok(got.length <= expected.length + 1, `nothing twice: ${got.length} for ${expected.length}`);
  const history = await parleyJson<Msg[]>(alice, "messages", "Bob");
  const bursts = history.filter((m) => m.text.startsWith("burst "));
  assert.deepEqual(
    bursts.map((m) => m.text),
    got,
  );
  assert.ok(
    bursts.every((m) => m.status === "sent" || m.status === "delivered"),
    JSON.stringify(bursts.map((m) => m.status)),
  );
});
