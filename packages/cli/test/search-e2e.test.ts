/**
 * `parley search` through a real relay and real CLI processes: words found in 1:1 and group
 * history (Chinese included, two characters and more), within one conversation with --in, from
 * standard input; an edit's old words and a deleted message's words no longer found, nor left in
 * the profile's files; and nothing of the messages or the searches on the relay.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runCli } from "@parley/testkit";
import { parley, parleyJson, type RelayProcess, startRelayProcess, tempDir } from "./helpers.js";

interface Msg {
  id: string;
  conversation: string;
  kind: "direct" | "group";
  text: string;
}

let relay: RelayProcess;
const alice = tempDir("search-alice");
const bob = tempDir("search-bob");
const search = (home: string, ...args: string[]) => parleyJson<Msg[]>(home, "search", ...args);
const texts = (found: Msg[]) => found.map((m) => m.text);

before(async () => {
  relay = await startRelayProcess(tempDir("search-relay"));
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

let harbour: Msg;
let chinese: Msg;

test("finds words in 1:1 and group history, newest first, Chinese too", async () => {
  harbour = await parleyJson<Msg>(alice, "send", "Bob", "Meet at the Harbour Café at noon");
  chinese = await parleyJson<Msg>(alice, "send", "Bob", "明天在港口咖啡馆见面");
  await parleyJson(bob, "send", "Alice", "I will bring the TICKETS");
  await parleyJson(alice, "group", "create", "Weekend");
  await parleyJson(alice, "group", "add", "Weekend", "Bob");
  await parleyJson(bob, "sync");
  await parleyJson(bob, "send", "Weekend", "tickets for the harbour ferry?");
  await parleyJson(alice, "sync");

  assert.deepEqual(texts(await search(bob, "harbour")), [
    "tickets for the harbour ferry?",
    "Meet at the Harbour Café at noon",
  ]);
  const inGroup = await search(alice, "harbour", "--in", "Weekend");
  assert.deepEqual(
    inGroup.map((m) => [m.conversation, m.kind, m.text]),
    [["Weekend", "group", "tickets for the harbour ferry?"]],
  );
  assert.deepEqual(texts(await search(alice, "Tickets", "--in", "Bob")), ["I will bring the TICKETS"]);
  assert.deepEqual(texts(await search(bob, "咖啡")), ["明天在港口咖啡馆见面"], "two characters");
  assert.deepEqual(texts(await search(bob, "港口咖啡馆")), ["明天在港口咖啡馆见面"], "five characters");
  assert.deepEqual(texts(await search(bob, "café", "--limit", "1")), ["Meet at the Harbour Café at noon"]);
  assert.deepEqual(await search(bob, "submarine"), []);

  // Human output: the message line with its short id; the query may come on standard input.
  const human = await runCli(bob, ["search", "-"], { input: "ferry\n" });
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /^\[[^\]]+ #\S{6}\] me in Weekend: tickets for the harbour ferry\? \(sent\)$/m);
  assert.equal((await parley(bob, "search", "submarine")).stdout, "nothing found\n");
});

test("refuses an empty search and an unknown conversation, with codes", async () => {
  for (const [args, code] of [
    [["search", "   "], "empty"],
    [["search", "harbour", "--in", "Nobody"], "unknown_contact"],
  ] as const) {
    const r = await parley(bob, "--json", ...args);
    assert.equal(r.code, 1);
    assert.equal((JSON.parse(r.stdout) as { code: string }).code, code);
  }
});

test("an edited message is not found by its old words, a deleted one not at all, nor left on disk", async () => {
  await parleyJson(alice, "edit", "Bob", harbour.id.slice(0, 6), "Meet at the station at noon");
  await parleyJson(alice, "delete-message", "Bob", chinese.id.slice(0, 6));
  await parleyJson(bob, "sync");
  for (const home of [alice, bob]) {
    assert.deepEqual(texts(await search(home, "harbour café")), [], "old words of the edit");
    assert.deepEqual(texts(await search(home, "station")), ["Meet at the station at noon"]);
    assert.deepEqual(await search(home, "咖啡"), [], "words of the deleted message");
    assert.deepEqual(await search(home, "港口咖啡馆"), []);
    for (const file of readdirSync(home)) {
      const bytes = readFileSync(join(home, file));
      for (const gone of ["Harbour Café", "harbour café", "港口咖啡馆"])
        assert.equal(bytes.indexOf(Buffer.from(gone)), -1, `${gone} in ${file}`);
    }
  }
});

test("the relay holds none of the messages' words nor the searches", async () => {
  await relay.stop();
  const needles = [
    "Harbour",
    "harbour",
    "港口",
    "咖啡",
    "TICKETS",
    "tickets",
    "ferry",
    "station",
    "submarine",
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
