/**
 * `parley group rekey` (issue 9, docs/protocol.md "Key updates") through a real relay and real CLI
 * profiles: a member who is not an admin commits a fresh UpdatePath; everyone follows into the new
 * epoch with the same secrets, and the group goes on.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Rfc9420Engine } from "@parley/core";
import { nodeCryptoProvider } from "@parley/core/node";
import { openProfile } from "@parley/node";
import { parley, parleyJson, type RelayProcess, startRelayProcess, tempDir } from "./helpers.js";

interface Msg {
  from: string;
  text: string;
}

let relay: RelayProcess;
const alice = tempDir("rk-alice");
const bob = tempDir("rk-bob");

before(async () => {
  relay = await startRelayProcess(tempDir("rk-relay"));
  await parleyJson(alice, "init", "--name", "Alice", "--server", relay.url);
  await parleyJson(bob, "init", "--name", "Bob", "--server", relay.url);
  const { link } = await parleyJson<{ link: string }>(alice, "invite");
  await parleyJson(bob, "accept", link);
  await parleyJson(alice, "sync");
  await parleyJson(bob, "sync");
  await parleyJson(alice, "group", "create", "Keys");
  await parleyJson(alice, "group", "add", "Keys", "Bob");
  await parleyJson(bob, "sync");
});
after(async () => {
  await relay?.stop();
});

/** A profile's epoch of group `name`, and an exporter secret of it (equal only within one epoch). */
async function epochOf(home: string, name: string): Promise<{ epoch: bigint; secret: string }> {
  const profile = openProfile(home);
  try {
    const c = await profile.client.findConversation(name);
    const engine = new Rfc9420Engine(nodeCryptoProvider);
    const state = engine.deserialize((await profile.client.repo.groupState(c.groupId!))!);
    const secret = await engine.exportSecret(state, "parley cli test", new Uint8Array(), 16);
    return { epoch: state.epoch, secret: Buffer.from(secret).toString("hex") };
  } finally {
    await profile.close();
  }
}

test("a member who is not an admin commits fresh keys; everyone follows, and the group goes on", async () => {
  const before = await epochOf(bob, "Keys");
  const rekey = await parley(bob, "group", "rekey", "Keys");
  assert.equal(rekey.code, 0, rekey.stderr);
  assert.match(rekey.stdout, /New keys in "Keys"\./);
  assert.deepEqual(await parleyJson(bob, "group", "rekey", "Keys"), { rekeyed: "Keys" });
  const after = await epochOf(bob, "Keys");
  assert.equal(after.epoch, before.epoch + 2n, "one commit each, both applied");
  assert.notEqual(after.secret, before.secret);
  await parleyJson(alice, "sync");
  assert.deepEqual(await epochOf(alice, "Keys"), after, "Alice: same epoch, same secrets");
  await parleyJson(bob, "send", "Keys", "after my new keys");
  const got = await parleyJson<Msg[]>(alice, "sync");
  assert.deepEqual(
    got.map((m) => `${m.from}: ${m.text}`),
    ["Bob: after my new keys"],
  );
});

test("rekey of a group this profile is not in is an error that changes nothing", async () => {
  const unknown = await parley(bob, "group", "rekey", "No such group");
  assert.equal(unknown.code, 1);
  assert.notEqual(unknown.stderr, "");
});
