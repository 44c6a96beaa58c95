/**
 * `parley contact rename` and `parley contact delete` through the real CLI and a real relay: our
 * own name for a contact; a deleted contact leaves nothing in the profile, not even on the relay.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { parley, parleyJson, type RelayProcess, startRelayProcess, tempDir } from "./helpers.js";

let relay: RelayProcess;
const alice = tempDir("contacts-alice");
const bob = tempDir("contacts-bob");

before(async () => {
  relay = await startRelayProcess(tempDir("contacts-relay"));
  await parleyJson(alice, "init", "--name", "Alice", "--server", relay.url);
  await parleyJson(bob, "init", "--name", "Bob", "--server", relay.url);
  const { link } = await parleyJson<{ link: string }>(alice, "invite");
  await parleyJson(bob, "accept", link);
  await parleyJson(alice, "sync");
});
after(async () => {
  await relay?.stop();
});

test("rename a contact, then delete them: gone from contacts, chats and the profile file", async () => {
  const renamed = await parleyJson<{ name: string }>(alice, "contact", "rename", "Bob", "Bobby");
  assert.equal(renamed.name, "Bobby");
  await parleyJson(alice, "send", "Bobby", "the code is 4711");
  await parleyJson(bob, "sync");

  const human = await parley(alice, "contact", "delete", "Bobby");
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /^Deleted Bobby and your chat with them\n$/);
  assert.deepEqual(await parleyJson(alice, "contacts"), []);
  assert.deepEqual(await parleyJson(alice, "conversations"), []);
  const again = await parley(alice, "--json", "contact", "delete", "Bobby");
  assert.notEqual(again.code, 0);
  assert.equal(JSON.parse(again.stderr || again.stdout).code, "unknown_contact");

  // What Bob sends now is not stored anywhere for Alice.
  await parleyJson(bob, "send", "Alice", "hello?");
  assert.deepEqual(await parleyJson(alice, "sync"), []);
  const profile = readFileSync(join(alice, "parley.sqlite"));
  assert.ok(!profile.includes("the code is 4711"), "the deleted chat's text is still in the profile file");
});

test("mute and archive a chat: listed apart until a new message, unless muted", async () => {
  const carol = tempDir("contacts-carol");
  await parleyJson(carol, "init", "--name", "Carol", "--server", relay.url);
  const { link } = await parleyJson<{ link: string }>(alice, "invite");
  await parleyJson(carol, "accept", link);
  await parleyJson(alice, "sync");
  type Row = { name: string; muted: boolean; archived: boolean };
  const names = async (...args: string[]) =>
    (await parleyJson<Row[]>(alice, "conversations", ...args)).map((c) => c.name);

  const archived = await parleyJson<Row>(alice, "archive", "Carol");
  assert.equal(archived.archived, true);
  assert.deepEqual(await names(), []);
  assert.deepEqual(await names("--archived"), ["Carol"]);
  const human = await parley(alice, "conversations");
  assert.match(human.stdout, /\(1 archived: parley conversations --archived\)/);

  // A new message brings it back.
  await new Promise((r) => setTimeout(r, 5));
  await parleyJson(carol, "send", "Alice", "back?");
  await parleyJson(alice, "sync");
  assert.deepEqual(await names(), ["Carol"]);

  // Muted and archived: it stays archived whatever arrives.
  await parleyJson(alice, "mute", "Carol");
  await parleyJson(alice, "archive", "Carol");
  await parleyJson(carol, "send", "Alice", "still there?");
  await parleyJson(alice, "sync");
  assert.deepEqual(await names(), []);
  const row = (await parleyJson<Row[]>(alice, "conversations", "--archived"))[0]!;
  assert.deepEqual([row.name, row.muted, row.archived], ["Carol", true, true]);
  await parleyJson(alice, "archive", "Carol", "--off");
  await parleyJson(alice, "mute", "Carol", "--off");
  assert.deepEqual(await names(), ["Carol"]);
});

test("a new display name reaches contacts and groups, end to end; a contact we named keeps our name", async () => {
  const dave = tempDir("contacts-dave");
  const erin = tempDir("contacts-erin");
  await parleyJson(dave, "init", "--name", "Dave", "--server", relay.url);
  await parleyJson(erin, "init", "--name", "Erin", "--server", relay.url);
  for (const other of [erin, alice]) {
    const { link } = await parleyJson<{ link: string }>(dave, "invite");
    await parleyJson(other, "accept", link);
    await parleyJson(dave, "sync");
  }
  await parleyJson(erin, "contact", "rename", "Dave", "Dave from work");
  await parleyJson(dave, "group", "create", "Walkers");
  await parleyJson(dave, "group", "add", "Walkers", "Erin", "Alice");
  await parleyJson(erin, "sync");
  await parleyJson(alice, "sync");

  const changed = await parley(dave, "config", "set", "name", "David");
  assert.equal(changed.code, 0, changed.stderr);
  assert.match(changed.stdout, /^your name is now David\n$/);
  assert.deepEqual(await parleyJson(dave, "config", "get"), {
    name: "David",
    server: relay.url,
    language: "auto",
  });

  const aliceSaw = await parley(alice, "sync");
  assert.match(aliceSaw.stdout + aliceSaw.stderr, /your contact is now called David/);
  const names = async (home: string) =>
    (await parleyJson<{ name: string }[]>(home, "contacts")).map((c) => c.name);
  assert.ok((await names(alice)).includes("David"));
  await parleyJson(erin, "sync");
  assert.ok((await names(erin)).includes("Dave from work"), "our own name for a contact stays");
  // In the group too, Erin's name for Dave stays hers.
  const members = await parleyJson<{ name: string }[]>(erin, "group", "members", "Walkers");
  assert.ok(members.some((m) => m.name === "Dave from work"));
});
