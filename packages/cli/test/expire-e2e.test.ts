/**
 * Disappearing messages (issue 13) through real CLI processes and a real relay: a timer set in a
 * 1:1 chat by either side and in a group by an admin (a member who is not is refused) is shown to
 * everyone; after it, every member's device has deleted the messages sent since — with their files
 * — and kept those from before.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { parley, parleyJson, type RelayProcess, startRelayProcess, tempDir } from "./helpers.js";

let relay: RelayProcess;
const alice = tempDir("expire-alice");
const bob = tempDir("expire-bob");
const carol = tempDir("expire-carol");

async function connect(a: string, b: string) {
  const { link } = await parleyJson<{ link: string }>(a, "invite");
  await parleyJson(b, "accept", link);
  await parleyJson(a, "sync");
  await parleyJson(b, "sync");
}
const texts = async (home: string, conversation: string) =>
  (await parleyJson<{ text: string }[]>(home, "messages", conversation)).map((m) => m.text);
/** The non-message events a sync printed (stderr, one JSON object a line). */
async function syncEvents(home: string) {
  const r = await parley(home, "--json", "sync");
  assert.equal(r.code, 0, r.stderr);
  return r.stderr
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as { type: string; seconds?: number | null; text?: string });
}

before(async () => {
  relay = await startRelayProcess(tempDir("expire-relay"));
  for (const [home, name] of [
    [alice, "Alice"],
    [bob, "Bob"],
    [carol, "Carol"],
  ] as const)
    await parleyJson(home, "init", "--name", name, "--server", relay.url);
  await connect(alice, bob);
  await connect(bob, carol);
  await parleyJson(bob, "group", "create", "Team");
  await parleyJson(bob, "group", "add", "Team", "Carol");
  await parleyJson(carol, "sync");
});
after(async () => {
  await relay?.stop();
});

test("a 30 s timer: shown to everyone, and every device deletes what came after it", async () => {
  await parleyJson(alice, "send", "Bob", "before the timer");
  await parleyJson(bob, "send", "Team", "team before the timer");
  const set = await parleyJson<{ type: string; seconds: number }>(alice, "expire", "Bob", "30s");
  assert.deepEqual([set.type, set.seconds], ["expire", 30]);
  const bobSaw = await syncEvents(bob);
  assert.ok(
    bobSaw.some((e) => e.type === "expire" && e.seconds === 30),
    JSON.stringify(bobSaw),
  );
  assert.ok(bobSaw.some((e) => e.text?.includes("set messages to disappear after 30 seconds")));

  // In a group only an admin sets it.
  const refused = await parley(carol, "--json", "expire", "Team", "30s");
  assert.notEqual(refused.code, 0);
  assert.equal(JSON.parse(refused.stdout).code, "not_admin");
  await parleyJson(bob, "expire", "Team", "30s");
  assert.ok((await syncEvents(carol)).some((e) => e.type === "expire" && e.seconds === 30));

  const file = join(tempDir("expire-file"), "note.txt");
  writeFileSync(file, "a file that disappears");
  await parleyJson(alice, "send", "Bob", "this one disappears");
  await parleyJson(alice, "send-file", "Bob", file);
  await parleyJson(bob, "send", "Alice", "so does this answer");
  await parleyJson(bob, "send", "Team", "team message that disappears");
  // Each checked as soon as it arrived (a message is due 30 s after it arrives; this machine may
  // be slow enough for a few commands to take that long).
  await parleyJson(bob, "sync");
  assert.deepEqual((await texts(bob, "Alice")).slice(0, 3), ["before the timer", "this one disappears", ""]);
  assert.equal((await parleyJson<unknown[]>(bob, "files", "Alice")).length, 1);
  await parleyJson(alice, "sync");
  assert.ok((await texts(alice, "Bob")).includes("so does this answer"));
  await parleyJson(carol, "sync");
  assert.ok((await texts(carol, "Team")).includes("team message that disappears"));

  await new Promise((r) => setTimeout(r, 31_000));
  for (const home of [alice, bob]) {
    assert.deepEqual(await texts(home, home === alice ? "Bob" : "Alice"), ["before the timer"], home);
    assert.deepEqual(await parleyJson(home, "files", home === alice ? "Bob" : "Alice"), []);
  }
  for (const home of [bob, carol]) assert.deepEqual(await texts(home, "Team"), ["team before the timer"]);

  // Off again, for both sides.
  await parleyJson(bob, "expire", "Alice", "off");
  assert.ok((await syncEvents(alice)).some((e) => e.type === "expire" && e.seconds === null));
  const views = await parleyJson<{ name: string; expireAfter: number | null }[]>(alice, "conversations");
  assert.equal(views.find((v) => v.name === "Bob")?.expireAfter, null);
});
