/**
 * Ids that start with "-" (one in 64 of every base64url id) reach the commands as ids, not as
 * options (src/dash-ids.ts), read from the real command tree; free text that starts with "-" is
 * left to commander, and every lookup takes the "#-…" the words are given.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { protectDashIds } from "../src/dash-ids.js";
import { program } from "../src/program.js";
import { parley, parleyJson, type RelayProcess, startRelayProcess, tempDir } from "./helpers.js";

const argv = (...a: string[]) => ["node", "parley", ...a];
const protect = (...a: string[]) => protectDashIds(argv(...a), program).slice(2);

test("names and ids that start with '-' are marked, in every command that takes one", () => {
  assert.deepEqual(protect("group", "members", "-8msWD2kQgOEqzPA1qeZyw"), [
    "group",
    "members",
    "#-8msWD2kQgOEqzPA1qeZyw",
  ]);
  assert.deepEqual(protect("--json", "group", "add", "-g1", "Bob", "-c2"), [
    "--json",
    "group",
    "add",
    "#-g1",
    "Bob",
    "#-c2",
  ]);
  assert.deepEqual(protect("--home", "-h1", "messages", "--limit", "5", "-x"), [
    "--home",
    "-h1",
    "messages",
    "--limit",
    "5",
    "#-x",
  ]);
  assert.deepEqual(protect("mute", "--off", "-x"), ["mute", "--off", "#-x"]);
  assert.deepEqual(protect("contact", "rename", "-c1", "-new"), ["contact", "rename", "#-c1", "-new"]);
  assert.deepEqual(protect("send", "--home=h", "-c1", "-hi"), ["send", "--home=h", "#-c1", "-hi"]);
  assert.deepEqual(protect("send-file", "-c1", "-f.txt"), ["send-file", "#-c1", "-f.txt"]);
  // Message, file and post ids, as before.
  assert.deepEqual(protect("--home", "h", "react", "Bob", "-x3Fq9", "👍", "--remove"), [
    "--home",
    "h",
    "react",
    "Bob",
    "#-x3Fq9",
    "👍",
    "--remove",
  ]);
  assert.deepEqual(protect("edit", "--json", "Bob", "-abc", "-"), ["edit", "--json", "Bob", "#-abc", "-"]);
  assert.deepEqual(protect("get-file", "-abc", "out"), ["get-file", "#-abc", "out"]);
  assert.deepEqual(protect("delete-file", "--json", "-abc"), ["delete-file", "--json", "#-abc"]);
  assert.deepEqual(protect("post", "delete", "-abc"), ["post", "delete", "#-abc"]);
  assert.deepEqual(protect("comment", "-p1", "-text"), ["comment", "#-p1", "-text"]);
  // Free text, option values and options stay as typed.
  assert.deepEqual(protect("post", "-abc", "--image", "-x.jpg"), ["post", "-abc", "--image", "-x.jpg"]);
  assert.deepEqual(protect("send", "Bob", "-abc"), ["send", "Bob", "-abc"]);
  assert.deepEqual(protect("reply", "Bob", "abc", "-x"), ["reply", "Bob", "abc", "-x"]);
  assert.deepEqual(protect("group", "create", "-team"), ["group", "create", "-team"]);
  assert.deepEqual(protect("group", "members", "-h"), ["group", "members", "-h"]);
  assert.deepEqual(protect("send", "--", "-c1", "-hi"), ["send", "--", "-c1", "-hi"]);
  // An id that starts with "--" is no option of the command either.
  assert.deepEqual(protect("group", "leave", "--Xy9"), ["group", "leave", "#--Xy9"]);
});

let relay: RelayProcess;
const alice = tempDir("dash-alice");
before(async () => {
  relay = await startRelayProcess(tempDir("dash-relay"));
  await parleyJson(alice, "init", "--name", "Alice", "--server", relay.url);
});
after(async () => {
  await relay?.stop();
});

test("a group id that starts with '-' reaches the command as an id", async () => {
  const group = await parleyJson<{ id: string }>(alice, "group", "create", "Team");
  // The id as a relay might have drawn it: the lookup answers to "#" + id, and to an unknown one
  // with its own error, not commander's "unknown option".
  const members = await parleyJson<unknown[]>(alice, "group", "members", `#${group.id}`);
  assert.equal(members.length, 1);
  const r = await parley(alice, "group", "members", "--json", "-8msWD2kQgOEqzPA1qeZyw");
  assert.notEqual(r.code, 0);
  assert.equal(JSON.parse(r.stdout).code, "unknown_group", r.stdout + r.stderr);
  const s = await parley(alice, "send", "--json", "-8msWD2kQgOEqzPA1qeZyw", "hi");
  assert.equal(JSON.parse(s.stdout).code, "unknown_contact", s.stdout + s.stderr);
});
