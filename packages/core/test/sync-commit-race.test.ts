/**
 * A sync and a group command on one device at the same moment (commit-order.ts, resumeCommits): the
 * sync reads the group's queue, the command publishes its commit after that read was answered, and
 * the sync, not having seen the commit in what it read, must not take it for one that never left
 * and send it again — a second copy that every member downloads and drops. Real relay.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { toHex } from "../src/encoding/bytes.js";
import type { FetchLike } from "../src/relay-client/relay-http.js";
import { groupView } from "./helpers/group-view.js";
import { connect, person } from "./helpers/people.js";
import { startTestRelay } from "./helpers/relay.js";

it("a commit published while a sync reads is sent once", { timeout: 120_000 }, async (t) => {
  const relay = await startTestRelay(t);
  // Alice's requests: while `hold` is set, the reply to her first read of the group's queue waits
  // (the relay has answered it already) until her commit has gone out.
  const gate = { groupQueue: "", hold: false, holding: false, read: () => {}, sent: () => {} };
  const readIssued = new Promise<void>((r) => {
    gate.read = r;
  });
  const commitSent = new Promise<void>((r) => {
    gate.sent = r;
  });
  const held: FetchLike = async (input, init) => {
    const url = String(input instanceof Request ? input.url : input);
    const res = await fetch(input, init);
    if (gate.holding && url.includes("/v1/send/")) gate.sent();
    const body = String(init?.body ?? "");
    if (gate.hold && body.includes('"fetch"') && body.includes(gate.groupQueue)) {
      gate.hold = false;
      gate.holding = true;
      gate.read();
      // Never for ever: the commit goes out within seconds, or the test fails below.
      await Promise.race([commitSent, new Promise((r) => setTimeout(r, 20_000))]);
      gate.holding = false;
      await new Promise((r) => setTimeout(r, 50));
    }
    return res;
  };
  const alice = await person("Alice", relay.url, { fetch: held });
  const bob = await person("Bob", relay.url);
  await connect(alice.client, bob.client);
  await alice.client.createGroup("Race");
  await alice.client.addToGroup("Race", ["Bob"]);
  for (let i = 0; i < 2; i++) for (const p of [bob, alice]) await p.client.sync();
  const group = (await alice.client.repo.conversations()).find((c) => c.kind === "group");
  assert.ok(group?.kind === "group");
  gate.groupQueue = group.receive.queueId;
  const queued = async () => (await relay.store.fetchPending(gate.groupQueue, { limit: 1000 })).length;
  const before = await queued();

  gate.hold = true;
  const syncing = alice.client.sync();
  await readIssued; // the sync's read of the group's queue is answered: nothing new
  await Promise.all([alice.client.renameGroup("Race", "Renamed"), syncing]);

  const messages = await relay.store.fetchPending(gate.groupQueue, { limit: 1000 });
  const bodies = messages.slice(before).map((m) => toHex(m.body));
  assert.equal(new Set(bodies).size, bodies.length, "no message is in the queue twice");
  await bob.client.sync();
  const [a, b] = [await groupView(alice.store), await groupView(bob.store)];
  assert.equal(a?.name, "Renamed");
  assert.equal(a?.authenticator, b?.authenticator, "Bob follows");
  assert.equal(await queued(), before + bodies.length);
});
