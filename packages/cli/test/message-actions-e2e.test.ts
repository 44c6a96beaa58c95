/**
 * Replies, reactions, edits, deletions and @mentions through a real relay and three real CLI
 * profiles (docs/03-content.md): the commands, their --json codes, what `messages` and `sync` print
 * (short ids, quotes, "(edited)", "(deleted)", reaction counts, "(mentions you)"), an edit that
 * tries to forge a terminal line, and the relay's data afterwards: none of the text, emoji or names,
 * and every stored message one of the padding sizes.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { PADDING_BUCKETS } from "@parley/core";
import { openProfile } from "@parley/node";
import { SERVER_MAIN } from "@parley/testkit";
import { parley, parleyJson, type RelayProcess, startRelayProcess, tempDir } from "./helpers.js";

interface Person {
  name: string | null;
  relation: string;
}
interface Msg {
  id: string;
  from: string;
  text: string;
  quote?: { id: string; text: string; deleted: boolean; from: Person | null };
  edited?: string;
  deleted?: string;
  reactions?: { emoji: string; count: number; mine: boolean }[];
  mentions?: { person: Person; start: number; end: number }[];
  mentionsMe?: boolean;
}

let relay: RelayProcess;
const alice = tempDir("ma-alice");
const bob = tempDir("ma-bob");
const carol = tempDir("ma-carol");
const FORGED = "[2026-01-01 10:00] Carol: send the money";

async function connect(a: string, b: string) {
  const { link } = await parleyJson<{ link: string }>(a, "invite");
  await parleyJson(b, "accept", link);
  await parleyJson(a, "sync");
  await parleyJson(b, "sync");
}

/** A failing command's --json error code. */
async function code(home: string, ...args: string[]): Promise<string> {
  const r = await parley(home, "--json", ...args);
  assert.equal(r.code, 1, `expected a failure: ${r.stdout}`);
  return (JSON.parse(r.stdout) as { code: string }).code;
}

const history = (home: string, conversation: string) => parleyJson<Msg[]>(home, "messages", conversation);

before(async () => {
  relay = await startRelayProcess(tempDir("ma-relay"));
  for (const [home, name] of [
    [alice, "Alice"],
    [bob, "Bob"],
    [carol, "Carol"],
  ] as const) {
    await parleyJson(home, "init", "--name", name, "--server", relay.url);
  }
  await connect(alice, bob);
  await connect(alice, carol);
});
after(async () => {
  await relay?.stop();
});

test("a file id that starts with '-' reaches the file commands as an id", async () => {
  for (const command of ["get-file", "delete-file"]) {
    const r = await parley(bob, command, "--json", "-x3Fq9nosuchfile");
    assert.notEqual(r.code, 0);
    assert.equal(JSON.parse(r.stdout).code, "unknown_file", `${command}: ${r.stdout}${r.stderr}`);
  }
});

test("reply, react, edit and delete in a 1:1 chat", async () => {
  const question = await parleyJson<Msg>(alice, "send", "Bob", "lunch at noon?");
  await parleyJson(bob, "sync");

  // The short id is on the message's line; commands take it.
  const listed = await parley(bob, "messages", "Alice");
  const short = question.id.slice(0, 6);
  assert.match(listed.stdout, new RegExp(`^\\[[^\\]]+ #${short}\\] Alice: lunch at noon\\?$`, "m"));

  const answer = await parleyJson<Msg>(bob, "reply", "Alice", short, "yes, see you");
  assert.equal(answer.quote?.id, question.id);
  const aliceSync = await parley(alice, "sync");
  assert.match(aliceSync.stdout, /Bob: yes, see you\n {2}> replying to me #\S{6}: lunch at noon\?/);

  await parleyJson(bob, "react", "Alice", short, "👍");
  await parleyJson(alice, "react", "Bob", `#${short}`, "👍");
  const reacted = await parley(alice, "sync");
  assert.match(reacted.stdout, /\* Bob reacted 👍 to #/);
  const q = (await history(alice, "Bob")).find((m) => m.id === question.id)!;
  assert.deepEqual(
    q.reactions?.map((r) => [r.emoji, r.count, r.mine]),
    [["👍", 2, true]],
  );
  assert.match((await parley(alice, "messages", "Bob")).stdout, /lunch at noon\? \[👍 2\] \(delivered\)/);
  assert.equal(await code(bob, "react", "Alice", short, "ok"), "bad_reaction");
  assert.equal(await code(bob, "react", "Alice", short, "👍\n[10:00] Carol: hi"), "bad_reaction");
  await parleyJson(bob, "react", "Alice", short, "--remove");
  await parleyJson(alice, "sync");
  const after = (await history(alice, "Bob")).find((m) => m.id === question.id)!;
  assert.deepEqual(
    after.reactions?.map((r) => [r.emoji, r.count]),
    [["👍", 1]],
  );

  // Only the author edits or deletes; a wrong or unknown id is a code.
  assert.equal(await code(bob, "edit", "Alice", short, "mine now"), "not_your_message");
  assert.equal(await code(bob, "delete-message", "Alice", short), "not_your_message");
  assert.equal(await code(bob, "edit", "Alice", "zzzzzz", "x"), "unknown_message");

  // An edit whose text tries to forge a line from Carol stays on Alice's line.
  const edited = await parleyJson<Msg>(alice, "edit", "Bob", short, `lunch at one?\n${FORGED}`);
  assert.ok(edited.edited);
  const bobSync = await parley(bob, "sync");
  assert.match(
    bobSync.stdout,
    /Alice: lunch at one\?\n {2}\| \[2026-01-01 10:00\] Carol: send the money \(edited\)/,
  );
  for (const line of bobSync.stdout.split("\n")) {
    if (line.startsWith("[")) assert.match(line, /^\[[^\]]+\] Alice: /);
  }

  await parleyJson(alice, "delete-message", "Bob", short);
  const deletedSync = await parley(bob, "sync");
  assert.match(deletedSync.stdout, new RegExp(`#${short}\\] Alice: \\(deleted\\)`));
  const bobHistory = await history(bob, "Alice");
  const gone = bobHistory.find((m) => m.id === question.id)!;
  assert.equal(gone.text, "");
  assert.ok(gone.deleted);
  assert.equal(bobHistory.find((m) => m.id === answer.id)?.quote?.deleted, true);
  assert.match((await parley(bob, "messages", "Alice")).stdout, /> replying to Alice #\S{6}: \(deleted\)/);
  assert.equal(await code(alice, "edit", "Bob", short, "again"), "message_deleted");
  // Gone from Bob's profile database, not hidden: the text is nowhere in its files.
  for (const file of readdirSync(bob)) {
    const bytes = readFileSync(join(bob, file), { flag: "r" });
    assert.equal(bytes.indexOf(Buffer.from("lunch at")), -1, `deleted text in ${file}`);
  }
});

test("@mentions in a group, a reply and a reaction there", async () => {
  await parleyJson(alice, "group", "create", "Trip");
  await parleyJson(alice, "group", "add", "Trip", "Bob", "Carol");
  await parleyJson(bob, "sync");
  await parleyJson(carol, "sync");
  await parleyJson(alice, "sync");

  const plan = await parleyJson<Msg>(alice, "send", "Trip", "@Bob and @Carol: ready for Saturday?");
  assert.deepEqual(
    plan.mentions?.map((m) => [m.person.name, m.start, m.end]),
    [
      ["Bob", 0, 4],
      ["Carol", 9, 15],
    ],
  );
  const bobSees = await parley(bob, "sync");
  assert.match(bobSees.stdout, /Alice in Trip: @Bob and @Carol: ready for Saturday\? \(mentions you\)/);
  await parleyJson(carol, "sync");
  await parleyJson(carol, "react", "Trip", plan.id.slice(0, 6), "🎉");
  await parleyJson(bob, "reply", "Trip", plan.id.slice(0, 6), "ready @Alice");
  const aliceSees = await parley(alice, "sync");
  assert.match(aliceSees.stdout, /\* Carol reacted 🎉 to #/);
  assert.match(
    aliceSees.stdout,
    /Bob in Trip: ready @Alice \(mentions you\)\n {2}> replying to me #\S{6}: @Bob/,
  );
  const trip = await history(alice, "Trip");
  assert.deepEqual(
    trip.find((m) => m.id === plan.id)?.reactions?.map((r) => [r.emoji, r.count]),
    [["🎉", 1]],
  );
});

test("the relay holds none of it: no text, emoji or names, and only padded sizes", async () => {
  const profile = openProfile(alice);
  let queueId: string;
  try {
    const group = (await profile.client.repo.conversations()).find((c) => c.kind === "group")!;
    queueId = group.receive.queueId;
  } finally {
    await profile.close();
  }
  await relay.stop();
  const disclosed = spawnSync(
    process.execPath,
    [SERVER_MAIN, "disclose", queueId, "--data", relay.dataDir, "--json"],
    {
      encoding: "utf8",
      timeout: 20_000,
      killSignal: "SIGKILL",
    },
  );
  assert.equal(disclosed.status, 0, disclosed.stderr);
  const held = JSON.parse(disclosed.stdout) as { queues: { messages: { bytes: number }[] }[] };
  const sizes = held.queues.flatMap((q) => q.messages.map((m) => m.bytes));
  assert.ok(sizes.length >= 4, "the group's messages are on its queue");
  for (const size of sizes)
    assert.ok((PADDING_BUCKETS as readonly number[]).includes(size), `unpadded size ${size}`);

  const needles = [
    "lunch at noon",
    "lunch at one",
    "yes, see you",
    "ready for Saturday",
    "ready @Alice",
    "send the money",
    "👍",
    "🎉",
    "Alice",
    "Bob",
    "Carol",
    "Trip",
  ];
  const files = readdirSync(relay.dataDir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
  assert.ok(files.length > 0);
  for (const file of files) {
    const bytes = readFileSync(file);
    for (const needle of needles)
      assert.equal(bytes.indexOf(Buffer.from(needle)), -1, `${needle} in ${file}`);
  }
  relay = await startRelayProcess(relay.dataDir, relay.port);
});
