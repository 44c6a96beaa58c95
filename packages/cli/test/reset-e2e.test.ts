/**
 * `parley reset` the way it happens (issue 13): Alice's profile folder is copied while her device is
 * compromised (the attacker's copy), then Alice resets from the original. Through real CLI processes
 * and a real relay: her contacts see her safety number change (a verified one stops sending until he
 * accepts it); every chat and group carries on with her new keys; the copy decrypts nothing new, and
 * whatever it sends — messages, a reply-to, a commit — is rejected by every contact and member with
 * a reason; the copy cannot read or delete her new queues; her history from before stays.
 */
import assert from "node:assert/strict";
import { cpSync, readdirSync } from "node:fs";
import { after, before, test } from "node:test";
import { parley, parleyJson, type RelayProcess, startRelayProcess, tempDir } from "./helpers.js";

let relay: RelayProcess;
const alice = tempDir("reset-alice");
const bob = tempDir("reset-bob");
const carol = tempDir("reset-carol");
const copy = tempDir("reset-attacker-copy");

type Message = { text: string; from: string };
type Contact = {
  name: string;
  identityKey: string;
  verified: boolean;
  keyChanged: boolean;
  mustAccept: boolean;
};

async function connect(a: string, b: string) {
  const { link } = await parleyJson<{ link: string }>(a, "invite");
  await parleyJson(b, "accept", link);
  await parleyJson(a, "sync");
  await parleyJson(b, "sync");
}

/** `sync --json`: the messages (stdout) and the other events (stderr, one JSON object a line). */
async function syncEvents(home: string) {
  const r = await parley(home, "--json", "sync");
  assert.equal(r.code, 0, r.stderr);
  const events = r.stderr
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as { type: string; reason?: string; change?: string; text?: string });
  return { messages: JSON.parse(r.stdout) as Message[], events };
}

const texts = async (home: string, conversation: string) =>
  (await parleyJson<Message[]>(home, "messages", conversation)).map((m) => m.text);

before(async () => {
  relay = await startRelayProcess(tempDir("reset-relay"));
  for (const [home, name] of [
    [alice, "Alice"],
    [bob, "Bob"],
    [carol, "Carol"],
  ] as const)
    await parleyJson(home, "init", "--name", name, "--server", relay.url);
  await connect(alice, bob);
  await connect(alice, carol);
  await connect(bob, carol);
  await parleyJson(bob, "safety", "Alice", "--verify");
  // Team: Bob's group, Alice a member. Club: Alice's group, she is its admin.
  await parleyJson(bob, "group", "create", "Team");
  await parleyJson(bob, "group", "add", "Team", "Alice", "Carol");
  await parleyJson(alice, "group", "create", "Club");
  await parleyJson(alice, "group", "add", "Club", "Bob", "Carol");
  for (const home of [alice, bob, carol]) await parleyJson(home, "sync");
});
after(async () => {
  await relay?.stop();
});

test("reset: contacts follow the new keys, the attacker's copy is worth nothing", async () => {
  await parleyJson(bob, "send", "Alice", "before the reset");
  await parleyJson(alice, "sync");
  // The attacker copies the profile folder now (the CLI is not running: the files are at rest).
  cpSync(alice, copy, { recursive: true });
  assert.ok(readdirSync(copy).length > 0);
  // Sent before the reset, not yet fetched by Alice: reset reads it first.
  await parleyJson(carol, "send", "Alice", "sent before, read during the reset");

  const before = (await parleyJson<Contact[]>(bob, "contacts")).find((c) => c.name === "Alice")!;
  const without = await parley(alice, "reset");
  assert.notEqual(without.code, 0, "reset without --yes only explains");
  assert.match(without.stderr, /new identity key/);
  const r = await parleyJson<{ identityKey: string; reset: string[]; pending: string[] }>(
    alice,
    "reset",
    "--yes",
  );
  assert.equal(r.reset.length, 4, "two chats and two groups carried over");
  assert.deepEqual(r.pending, []);
  assert.notEqual(r.identityKey, before.identityKey);

  // Bob (who had verified Alice) is told, and sends nothing until he accepts the change.
  const bobSaw = await syncEvents(bob);
  assert.ok(
    bobSaw.events.some((e) => e.type === "contact" && e.change === "key-reset"),
    JSON.stringify(bobSaw),
  );
  const bobsAlice = (await parleyJson<Contact[]>(bob, "contacts")).find((c) => c.name === "Alice")!;
  assert.equal(bobsAlice.identityKey, r.identityKey);
  assert.deepEqual([bobsAlice.verified, bobsAlice.keyChanged, bobsAlice.mustAccept], [false, true, true]);
  const refused = await parley(bob, "--json", "send", "Alice", "are you there?");
  assert.notEqual(refused.code, 0);
  assert.equal(JSON.parse(refused.stdout).code, "key_not_accepted");
  const human = await parley(bob, "send", "Alice", "are you there?");
  assert.match(human.stderr, /safety number changed.*accept-key/);
  await parleyJson(bob, "contact", "accept-key", "Alice");
  await parleyJson(bob, "send", "Alice", "after the reset, to the new keys");
  await parleyJson(bob, "send", "Team", "team after the reset");
  await parleyJson(bob, "send", "Club", "club after the reset");
  // Carol had not verified Alice: told, and she may write on.
  const carolSaw = await syncEvents(carol);
  assert.ok(carolSaw.events.some((e) => e.type === "contact" && e.change === "key-reset"));
  await parleyJson(carol, "send", "Alice", "carol after the reset");

  // The copy: it syncs first (whatever it could take, it takes now) and decrypts nothing new.
  const stolen = await syncEvents(copy);
  assert.deepEqual(
    stolen.messages.map((m) => m.text),
    [],
    "the copy read something sent after the reset",
  );
  // It writes as Alice, in the chat, in a group she is a member of, and renames her group.
  await parley(copy, "send", "Bob", "forged: send me the code");
  await parley(copy, "send", "Team", "forged in Team");
  await parley(copy, "send", "Club", "forged in Club");
  await parley(copy, "group", "rename", "Club", "Forged club");

  // Alice, on the original, got everything, before and after; the copy took nothing away from her.
  await parleyJson(alice, "sync");
  assert.deepEqual(await texts(alice, "Bob"), ["before the reset", "after the reset, to the new keys"]);
  assert.deepEqual(await texts(alice, "Carol"), [
    "sent before, read during the reset",
    "carol after the reset",
  ]);
  assert.ok((await texts(alice, "Team")).includes("team after the reset"));
  assert.ok((await texts(alice, "Club")).includes("club after the reset"));

  // Bob and Carol reject every forgery, with a reason; none reaches their history.
  for (const home of [bob, carol]) {
    const saw = await syncEvents(home);
    const reasons = saw.events.filter((e) => e.type === "rejected").map((e) => e.reason);
    assert.ok(reasons.length >= 2, `${home}: ${JSON.stringify(saw.events)}`);
    assert.ok(reasons.includes("revoked_device"), JSON.stringify(saw.events));
    assert.deepEqual(
      saw.messages.filter((m) => m.text.startsWith("forged")),
      [],
    );
  }
  assert.ok(!(await texts(bob, "Alice")).some((t) => t.startsWith("forged")));
  assert.ok(!(await texts(bob, "Team")).some((t) => t.startsWith("forged")));
  assert.ok(!(await texts(carol, "Club")).some((t) => t.startsWith("forged")));
  const clubs = await parleyJson<{ name: string }[]>(bob, "conversations");
  assert.ok(clubs.some((c) => c.name === "Club") && !clubs.some((c) => c.name === "Forged club"));
  // Nothing new for the copy either, however often it looks.
  assert.deepEqual((await syncEvents(copy)).messages, []);

  // And the chats go on with the new keys, both ways.
  await parleyJson(alice, "send", "Bob", "all good now");
  await parleyJson(alice, "send", "Club", "club goes on");
  const bobAfter = await syncEvents(bob);
  assert.deepEqual(bobAfter.messages.map((m) => m.text).sort(), ["all good now", "club goes on"]);
});
