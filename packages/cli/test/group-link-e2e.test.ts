/**
 * Group invite links (issue 14) through real CLI processes and a real relay: a link opened by people
 * who are nobody's contact (added at once; added after approval; refused once revoked; approved by
 * a second admin, whom the first cannot then double). Then the
 * relay's files are searched for the group's name and the joiners' names: neither is there.
 * (The profile photo's e2e is profile-photo-e2e.test.ts.)
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { parley, parleyJson, type RelayProcess, startRelayProcess, tempDir } from "./helpers.js";

interface Msg {
  text: string;
  sender: { name: string | null };
}
interface Member {
  name: string;
}

let relay: RelayProcess;
const home = (name: string) => tempDir(`gl-${name}`);
const alice = home("alice");
const bob = home("bob");
const dave = home("dave");
const erin = home("erin");
const frank = home("frank");

before(async () => {
  relay = await startRelayProcess(tempDir("gl-relay"));
  for (const [h, name] of [
    [alice, "Alice"],
    [bob, "Bob"],
    [dave, "Dave"],
    [erin, "Erin"],
    [frank, "Frank"],
  ] as const) {
    await parleyJson(h, "init", "--name", name, "--server", relay.url);
  }
  const { link } = await parleyJson<{ link: string }>(alice, "invite");
  await parleyJson(bob, "accept", link);
  await parleyJson(alice, "sync");
  await parleyJson(bob, "sync");
  await parleyJson(alice, "group", "create", "Climbers");
  await parleyJson(alice, "group", "add", "Climbers", "Bob");
  await parleyJson(bob, "sync");
});
after(async () => {
  await relay?.stop();
});

test("a link without approval: Dave, nobody's contact, opens it and is in the group", async () => {
  const made = await parleyJson<{ link: string; approve: boolean }>(
    alice,
    "group",
    "invite-link",
    "Climbers",
  );
  assert.match(made.link, /\/#\/join\//);
  const human = await parley(alice, "group", "invite-link", "Climbers", "--show");
  assert.equal(human.code, 0);
  assert.ok(human.stdout.includes(made.link));

  const asked = await parleyJson<{ group: string; approve: boolean; requested: boolean }>(
    dave,
    "accept",
    made.link,
  );
  assert.deepEqual(asked, { group: "Climbers", approve: false, expiresAt: null, requested: true });
  await parleyJson(alice, "sync");
  await parleyJson(dave, "sync");
  await parleyJson(bob, "sync");
  const members = await parleyJson<Member[]>(dave, "group", "members", "Climbers");
  assert.equal(members.length, 3);
  await parleyJson(dave, "send", "Climbers", "hi, Dave here");
  await parleyJson(bob, "sync");
  const seen = (await parleyJson<Msg[]>(bob, "messages", "Climbers")).find((m) => m.text === "hi, Dave here");
  assert.equal(seen?.sender.name, "Dave");
  assert.deepEqual(await parleyJson<unknown[]>(dave, "contacts"), [], "Dave is still nobody's contact");
});

test("a link with approval and an expiry: Erin waits until Alice approves", async () => {
  const made = await parleyJson<{ link: string; approve: boolean; expiresAt: string }>(
    alice,
    "group",
    "invite-link",
    "Climbers",
    "--approve",
    "--expires",
    "1d",
  );
  assert.equal(made.approve, true);
  assert.ok(Date.parse(made.expiresAt) > Date.now() + 23 * 3600_000);
  const asked = await parleyJson<{ approve: boolean }>(erin, "accept", made.link);
  assert.equal(asked.approve, true);
  const listened = await parley(alice, "sync");
  assert.match(listened.stdout, /Erin asks to join "Climbers"/);
  const requests = await parleyJson<{ name: string; id: string }[]>(alice, "group", "requests", "Climbers");
  assert.deepEqual(
    requests.map((r) => r.name),
    ["Erin"],
  );
  await parleyJson(erin, "sync");
  assert.equal((await parley(erin, "group", "members", "Climbers")).code, 1, "not in before approval");
  const wrong = await parley(alice, "group", "approve", "Climbers", "Zed");
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /nobody called Zed/);
  await parleyJson(alice, "group", "approve", "Climbers", "Erin");
  await parleyJson(erin, "sync");
  assert.equal((await parleyJson<Member[]>(erin, "group", "members", "Climbers")).length, 4);
  assert.deepEqual(await parleyJson(alice, "group", "requests", "Climbers"), []);

  // Revoked: the link opens for nobody, with a clear error and nothing changed.
  await parleyJson(alice, "group", "invite-link", "Climbers", "--revoke");
  const refused = await parley(frank, "accept", made.link);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /revoked or has expired/);
  const json = await parley(frank, "--json", "accept", made.link);
  assert.equal(JSON.parse(json.stdout).code, "InviteError");
});

test("a second admin sees the requests and approves; the first has nothing left to add", async () => {
  await parleyJson(alice, "group", "admin", "Climbers", "Bob");
  const made = await parleyJson<{ link: string }>(alice, "group", "invite-link", "Climbers", "--approve");
  await parleyJson(bob, "sync"); // Bob's client learns of the link and reads its requests from now on
  await parleyJson(frank, "accept", made.link);
  const bobSaw = await parley(bob, "sync");
  assert.match(bobSaw.stdout, /Frank asks to join "Climbers"/);
  await parleyJson(alice, "sync");
  assert.deepEqual(
    (await parleyJson<{ name: string }[]>(alice, "group", "requests", "Climbers")).map((r) => r.name),
    ["Frank"],
    "both admins see the request",
  );
  await parleyJson(bob, "group", "approve", "Climbers", "Frank");
  await parleyJson(alice, "sync");
  assert.deepEqual(await parleyJson(alice, "group", "requests", "Climbers"), [], "answered by Bob");
  const twice = await parley(alice, "group", "approve", "Climbers", "Frank");
  assert.equal(twice.code, 1, "Alice cannot add Frank a second time");
  await parleyJson(frank, "sync");
  for (const h of [alice, bob, dave, erin]) await parleyJson(h, "sync");
  const names = (await parleyJson<Member[]>(frank, "group", "members", "Climbers")).map((m) => m.name);
  assert.equal(names.length, 5, JSON.stringify(names));
  // (Frank knows the others by name once their profiles reach him: only the count is compared.)
  assert.equal((await parleyJson<Member[]>(alice, "group", "members", "Climbers")).length, 5);
  assert.equal((await parleyJson<Member[]>(bob, "group", "members", "Climbers")).length, 5);
});

test("the relay's files hold no group name and no joiner's name", async () => {
  await relay.stop();
  const needles = [Buffer.from("Climbers"), Buffer.from("Dave"), Buffer.from("Erin")];
  for (const file of readdirSync(relay.dataDir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))) {
    const bytes = readFileSync(file);
    for (const n of needles)
      assert.equal(bytes.indexOf(n), -1, `"${n.toString("latin1").slice(0, 20)}" found in ${file}`);
  }
  relay = await startRelayProcess(relay.dataDir, relay.port);
});
