/**
 * Group chats through a real relay and three real CLI profiles: create, add two in one commit,
 * talk, rename, a modified client's add refused by everyone, remove one (who then reads nothing
 * more), and the relay's database checked for names and member lists.
 */
import assert from "node:assert/strict";
import { cpSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Rfc9420Engine } from "@parley/core";
import { nodeCryptoProvider } from "@parley/core/node";
import { openProfile } from "@parley/node";
import { parley, parleyJson, type RelayProcess, startRelayProcess, tempDir } from "./helpers.js";

interface Msg {
  conversation: string;
  from: string;
  text: string;
}
interface MemberJson {
  name: string;
  role: string;
  isMe: boolean;
}

let relay: RelayProcess;
const alice = tempDir("g-alice");
const bob = tempDir("g-bob");
const carol = tempDir("g-carol");
const dave = tempDir("g-dave");
const texts = (ms: Msg[]) => ms.map((m) => `${m.from}: ${m.text}`);

async function connect(a: string, b: string) {
  const { link } = await parleyJson<{ link: string }>(a, "invite");
  await parleyJson(b, "accept", link);
  await parleyJson(a, "sync"); // intro, and b's key packages
  await parleyJson(b, "sync"); // a's key packages
}

before(async () => {
  relay = await startRelayProcess(tempDir("g-relay"));
  for (const [home, name] of [
    [alice, "Alice"],
    [bob, "Bob"],
    [carol, "Carol"],
    [dave, "Dave"],
  ] as const) {
    await parleyJson(home, "init", "--name", name, "--server", relay.url);
  }
  await connect(alice, bob);
  await connect(alice, carol);
  await connect(bob, dave);
});
after(async () => {
  await relay?.stop();
});

test("an admin creates a group, adds two contacts in one commit, and everyone talks", async () => {
  const g = await parleyJson<{ name: string }>(alice, "group", "create", "Book club");
  assert.equal(g.name, "Book club");
  const members = await parleyJson<MemberJson[]>(alice, "group", "add", "Book club", "Bob", "Carol");
  assert.deepEqual(members.map((m) => [m.name, m.role]).sort(), [
    ["Alice", "admin"],
    ["Bob", "member"],
    ["Carol", "member"],
  ]);

  await parleyJson(bob, "sync");
  await parleyJson(carol, "sync");
  await parleyJson(alice, "send", "Book club", "hello all");
  await parleyJson(bob, "send", "Book club", "hi from Bob");

  const carolGot = await parleyJson<Msg[]>(carol, "sync");
  assert.deepEqual(texts(carolGot), ["Alice: hello all", "Bob (not a contact): hi from Bob"]);
  assert.ok(carolGot.every((m) => m.conversation === "Book club"));
  const aliceGot = await parleyJson<Msg[]>(alice, "sync");
  assert.deepEqual(texts(aliceGot), ["Bob: hi from Bob"]);

  const carolSees = await parleyJson<MemberJson[]>(carol, "group", "members", "Book club");
  assert.equal(carolSees.length, 3);
  assert.equal(carolSees.find((m) => m.name === "Alice")?.role, "admin");
});

test("group create --pq: a post-quantum group (MLS suite X-Wing) works the same way", async () => {
  const g = await parleyJson<{ name: string; pq: boolean }>(alice, "group", "create", "Quantum club", "--pq");
  assert.equal(g.pq, true);
  // Bob and Carol gave Alice X-Wing KeyPackages too when they connected.
  await parleyJson(alice, "group", "add", "Quantum club", "Bob", "Carol");
  await parleyJson(bob, "sync");
  await parleyJson(carol, "sync");
  await parleyJson(bob, "send", "Quantum club", "hi, post-quantum");
  assert.deepEqual(texts(await parleyJson<Msg[]>(carol, "sync")), ["Bob (not a contact): hi, post-quantum"]);
  assert.deepEqual(texts(await parleyJson<Msg[]>(alice, "sync")), ["Bob: hi, post-quantum"]);
  // Every member's stored state is of cipher suite 0xF00D (X-Wing).
  for (const home of [alice, bob, carol]) {
    const profile = openProfile(home);
    try {
      const c = await profile.client.findConversation("Quantum club");
      const stored = await profile.client.repo.groupState(c.groupId!);
      const engine = new Rfc9420Engine(nodeCryptoProvider);
      assert.equal(
        engine.cipherSuiteOf(engine.deserialize(stored!)),
        "MLS_256_XWING_AES256GCM_SHA512_Ed25519",
      );
    } finally {
      await profile.close();
    }
  }
});

test("only admins change the group: the CLI refuses, and a modified client is rejected by all", async () => {
  const refused = await parley(bob, "group", "add", "Book club", "Dave");
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /only admins/);

  // A modified client (a copy of Bob's profile, so the real Bob stays in the group) commits anyway.
  const rogue = tempDir("g-rogue");
  cpSync(bob, rogue, { recursive: true });
  const modified = openProfile(rogue);
  try {
    await modified.client.addToGroup("Book club", ["Dave"], { unchecked: true });
  } finally {
    await modified.close();
  }
  const aliceSync = await parley(alice, "--json", "sync");
  assert.match(aliceSync.stderr, /commit rejected: only admins/);
  const carolSync = await parley(carol, "--json", "sync");
  assert.match(carolSync.stderr, /commit rejected: only admins/);
  // Dave got a Welcome from a non-admin: his client refuses to join.
  const daveSync = await parley(dave, "--json", "sync");
  assert.match(daveSync.stderr, /not an admin/);

  // Alice and Carol carry on in the real group.
  await parleyJson(alice, "send", "Book club", "still here");
  assert.deepEqual(texts(await parleyJson<Msg[]>(carol, "sync")), ["Alice: still here"]);
});

test("rename and admin rights travel inside the group", async () => {
  await parleyJson(alice, "group", "admin", "Book club", "Carol");
  await parleyJson(alice, "group", "rename", "Book club", "Readers");
  // The CLI's lines name the people (issue 14), and we are "you".
  const carolSync = await parley(carol, "sync");
  assert.match(carolSync.stdout, /\* "Book club": you are now admin/);
  assert.match(carolSync.stdout, /\* the group is now called "Readers"/);
  // Every chat and group, with the id any command also takes.
  const list = await parleyJson<{ id: string; kind: string; name: string; admin?: boolean }[]>(
    carol,
    "conversations",
  );
  const readers = list.find((c) => c.name === "Readers");
  assert.equal(readers?.kind, "group");
  assert.equal(readers?.admin, true);
  assert.deepEqual(
    list.filter((c) => c.kind === "direct").map((c) => c.name),
    ["Alice"],
  );
  const human = await parley(carol, "conversations");
  assert.match(human.stdout, new RegExp(`${readers!.id}  Readers  \\(group, admin\\)`));
  const byId = await parleyJson<MemberJson[]>(carol, "group", "members", readers!.id);
  const carolSees = await parleyJson<MemberJson[]>(carol, "group", "members", "Readers");
  assert.deepEqual(byId, carolSees);
  assert.equal(carolSees.find((m) => m.isMe)?.role, "admin");
  await parleyJson(carol, "send", "Readers", "renamed!");
  assert.deepEqual(texts(await parleyJson<Msg[]>(alice, "sync")), ["Carol: renamed!"]);
});

test("a removed member reads nothing sent after the removal", async () => {
  const members = await parleyJson<MemberJson[]>(alice, "group", "remove", "Readers", "Carol");
  assert.deepEqual(members.map((m) => m.name).sort(), ["Alice", "Bob"]);
  await parleyJson(alice, "send", "Readers", "after Carol left");
  const carolSync = await parley(carol, "--json", "sync");
  assert.equal(carolSync.code, 0);
  const carolGot = JSON.parse(carolSync.stdout) as Msg[];
  assert.deepEqual(carolGot, []);
  assert.match(carolSync.stderr, /"change":"removed"/);
  const carolSend = await parley(carol, "send", "Readers", "let me in");
  assert.equal(carolSend.code, 1);
  assert.match(carolSend.stderr, /no longer a member/);

  // Bob, still in, gets it, and is told who left.
  const bobSync = await parley(bob, "sync");
  assert.match(bobSync.stdout, /\* "Readers": Carol \(not a contact\) removed/);
  assert.match(bobSync.stdout, /Alice in Readers: after Carol left/);
  const history = await parleyJson<Msg[]>(carol, "messages", "Readers");
  assert.ok(!history.some((m) => m.text === "after Carol left"));
});

test("the relay's database holds no member names, group name or member list", async () => {
  await relay.stop();
  const needles = ["Book club", "Readers", "Alice", "Carol", "Dave", "hello all", "after Carol left"];
  for (const file of readdirSync(relay.dataDir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))) {
    const bytes = readFileSync(file);
    for (const n of needles) assert.equal(bytes.indexOf(Buffer.from(n)), -1, `"${n}" found in ${file}`);
  }
  relay = await startRelayProcess(relay.dataDir, relay.port);
});
