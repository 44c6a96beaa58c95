/**
 * Read receipts and typing indicators through a real relay and real CLI processes: on by default in
 * a chat, off in a group; switched per person (`read-receipts Alice --off`) and per group; who read
 * shows in `messages` ("(read)", "(read by 1)") and in its --json (`readBy`); receipts go once;
 * typing arrives as an event; and the relay holds none of it in the clear.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { parley, parleyJson, type RelayProcess, startRelayProcess, tempDir } from "./helpers.js";

interface Msg {
  id: string;
  text: string;
  readBy?: { name: string | null }[];
}
interface Event {
  type: string;
  typing?: boolean;
  ids?: string[];
  by?: { name: string | null };
}

let relay: RelayProcess;
const alice = tempDir("rr-alice");
const bob = tempDir("rr-bob");

/** `sync --json`: the events other than messages (printed one JSON line each on stderr). */
async function syncEvents(home: string): Promise<Event[]> {
  const r = await parley(home, "--json", "sync");
  assert.equal(r.code, 0, r.stderr);
  return r.stderr
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Event);
}
const readers = async (home: string, conversation: string, text: string) =>
  (await parleyJson<Msg[]>(home, "messages", conversation))
    .find((m) => m.text === text)
    ?.readBy?.map((p) => p.name);

before(async () => {
  relay = await startRelayProcess(tempDir("rr-relay"));
  await parleyJson(alice, "init", "--name", "Alice", "--server", relay.url);
  await parleyJson(bob, "init", "--name", "Bob", "--server", relay.url);
  const { link } = await parleyJson<{ link: string }>(alice, "invite");
  await parleyJson(bob, "accept", link);
  await parleyJson(alice, "sync");
  await parleyJson(bob, "sync");
});
after(async () => {
  await relay?.stop();
});

test("1:1: a read receipt by default, once; none after the person is switched off", async () => {
  const first = await parleyJson<Msg>(alice, "send", "Bob", "are you there?");
  await parleyJson(bob, "sync");
  assert.deepEqual(await parleyJson(bob, "read", "Alice"), { ids: [first.id], sent: true });
  assert.deepEqual(await parleyJson(bob, "read", "Alice"), { ids: [], sent: false }, "once");
  const events = await syncEvents(alice);
  assert.deepEqual(
    events.filter((e) => e.type === "read").map((e) => [e.ids, e.by?.name]),
    [[[first.id], "Bob"]],
  );
  assert.deepEqual(await readers(alice, "Bob", "are you there?"), ["Bob"]);
  assert.match((await parley(alice, "messages", "Bob")).stdout, /are you there\? \(read\)$/m);

  await parleyJson(bob, "read-receipts", "Alice", "--off");
  await parleyJson(alice, "send", "Bob", "still there?");
  await parleyJson(bob, "sync");
  const quiet = await parleyJson<{ ids: string[]; sent: boolean }>(bob, "read", "Alice");
  assert.equal(quiet.sent, false);
  assert.equal(quiet.ids.length, 1);
  await parleyJson(alice, "sync");
  assert.equal(await readers(alice, "Bob", "still there?"), undefined);
  assert.match((await parley(alice, "messages", "Bob")).stdout, /still there\? \(delivered\)$/m);
});

test("groups: no read receipts or typing until switched on for the group", async () => {
  await parleyJson(alice, "group", "create", "Team");
  await parleyJson(alice, "group", "add", "Team", "Bob");
  await parleyJson(bob, "sync");
  const settings = await parleyJson<{ name: string; readReceipts: boolean; typingIndicators: boolean }[]>(
    bob,
    "conversations",
  );
  assert.deepEqual(
    settings.map((c) => [c.name, c.readReceipts, c.typingIndicators]),
    [
      ["Alice", false, true],
      ["Team", false, false],
    ],
  );
  await parleyJson(alice, "send", "Team", "group hello");
  await parleyJson(bob, "sync");
  assert.equal((await parleyJson<{ sent: boolean }>(bob, "read", "Team")).sent, false);
  assert.deepEqual(await parleyJson(bob, "typing", "Team"), { sent: false });

  await parleyJson(bob, "read-receipts", "Team");
  await parleyJson(bob, "typing-indicators", "Team");
  await parleyJson(alice, "send", "Team", "group two");
  await parleyJson(bob, "sync");
  assert.equal((await parleyJson<{ sent: boolean }>(bob, "read", "Team")).sent, true);
  assert.deepEqual(await parleyJson(bob, "typing", "Team"), { sent: true });
  const events = await syncEvents(alice);
  assert.deepEqual(
    events.filter((e) => e.type === "typing").map((e) => [e.by?.name, e.typing]),
    [["Bob", true]],
  );
  assert.deepEqual(await readers(alice, "Team", "group two"), ["Bob"]);
  assert.equal(await readers(alice, "Team", "group hello"), undefined, "read before receipts were on");
  assert.match((await parley(alice, "messages", "Team")).stdout, /group two \(read by 1\)$/m);
});

test("1:1 typing: started and stopped, as events", async () => {
  assert.deepEqual(await parleyJson(alice, "typing", "Bob"), { sent: true });
  assert.deepEqual(await parleyJson(alice, "typing", "Bob", "--stop"), { sent: true });
  const events = await syncEvents(bob);
  assert.deepEqual(
    events.filter((e) => e.type === "typing").map((e) => [e.by?.name, e.typing]),
    [
      ["Alice", true],
      ["Alice", false],
    ],
  );
  assert.match((await parley(bob, "typing", "Nobody")).stderr, /no contact or group named "Nobody"/);
});

test("a read receipt made offline goes later, and is not reported as a message sent", async () => {
  await parleyJson(bob, "read-receipts", "Alice");
  await parleyJson(alice, "send", "Bob", "offline check");
  await parleyJson(bob, "sync");
  await relay.stop();
  const made = await parleyJson<{ ids: string[]; sent: boolean }>(bob, "read", "Alice");
  assert.deepEqual([made.ids.length, made.sent], [1, true], "sealed into the outbox");
  relay = await startRelayProcess(relay.dataDir, relay.port);
  const bobEvents: Event[] = [];
  for (let i = 0; i < 20 && !(await readers(alice, "Bob", "offline check")); i++) {
    bobEvents.push(...(await syncEvents(bob)));
    await parleyJson(alice, "sync");
  }
  assert.deepEqual(await readers(alice, "Bob", "offline check"), ["Bob"]);
  assert.deepEqual(
    bobEvents.filter((e) => e.type === "sent" || e.type === "warning"),
    [],
    "a receipt is no message of Bob's",
  );
});

test("the relay holds none of the receipts, indicators or messages in the clear", async () => {
  await relay.stop();
  const files = readdirSync(relay.dataDir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
  assert.ok(files.length > 0);
  for (const file of files) {
    const bytes = readFileSync(file);
    for (const needle of ['"read"', '"typing"', "are you there", "group two", "Team", "Alice", "Bob"])
      assert.equal(bytes.indexOf(Buffer.from(needle)), -1, `${needle} in ${file}`);
  }
  relay = await startRelayProcess(relay.dataDir, relay.port);
});
