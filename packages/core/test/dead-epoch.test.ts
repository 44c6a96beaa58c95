/**
 * Dead epochs (docs/protocol.md, "A member that falls out of step"): a member that can no longer
 * follow the group — the commits it missed expired from the relay, or it could not process one —
 * says so to its user, asks an admin to re-add it (a fresh KeyPackage over their 1:1 chat), and the
 * admin's client re-adds it: the group is one again, and messages flow both ways. Real relay.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import type { ParleyClient } from "../src/client/parley-client.js";
import type { FetchLike } from "../src/relay-client/relay-http.js";
import { assertConverged } from "./helpers/group-view.js";
import { connect, eventsOf, person } from "./helpers/people.js";
import { startTestRelay } from "./helpers/relay.js";

const texts = async (c: ParleyClient, group: string) => (await c.messages(group)).map((m) => m.text);

/** Alice (admin) with Bob and Carol in `group`, everyone synced. */
async function cast(url: string, group: string, carol: { fetch?: FetchLike; now?: () => number } = {}) {
  const alice = await person("Alice", url);
  const bob = await person("Bob", url);
  const c = await person("Carol", url, carol);
  await connect(alice.client, bob.client);
  await connect(alice.client, c.client);
  await alice.client.createGroup(group);
  await alice.client.addToGroup(group, ["Bob", "Carol"]);
  // Twice: each newcomer's name in the group, then its echo.
  for (let round = 0; round < 2; round++) for (const x of [bob, c, alice]) await x.client.sync();
  return { alice, bob, carol: c };
}

/** After the request: Alice re-adds Carol, everyone catches up, the group is one and works both ways. */
async function healedAndTalking(p: Awaited<ReturnType<typeof cast>>, group: string) {
  await p.alice.client.sync(); // the request: Alice's client commits the re-add, the Welcome goes
  const seen = await p.bob.client.sync();
  assert.deepEqual(
    [...eventsOf(seen, "devices"), ...eventsOf(seen, "group").filter((e) => e.change === "members")],
    [],
    "a re-add is no change of members or devices for the others",
  );
  const back = await p.carol.client.sync();
  assert.deepEqual(
    eventsOf(back, "group").map((e) => e.change),
    ["joined"],
    "Carol is back in by Alice's Welcome",
  );
  for (const c of [p.alice, p.bob]) await c.client.sync();
  const view = await assertConverged([p.alice, p.bob, p.carol]);
  assert.equal(view.members.length, 3, "Carol is in once");
  await p.carol.client.send(group, "I am back");
  await p.alice.client.send(group, "welcome back");
  for (const c of [p.alice, p.bob, p.carol]) await c.client.sync();
  for (const c of [p.alice, p.bob]) assert.ok((await texts(c.client, group)).includes("I am back"));
  assert.ok((await texts(p.carol.client, group)).includes("welcome back"));
}

it("a member whose missed commits expired from the relay asks to be re-added, and is", async (t) => {
  let shift = 0;
  const relay = await startTestRelay(t, {
    config: { ttlMs: 60_000, timeGranularityMs: 1, sweepIntervalMs: 3_600_000 },
    now: () => Date.now() + shift,
  });
  const p = await cast(relay.url, "Expiry");
  // Carol is away. Alice renames the group (a commit) and writes; Bob follows.
  await p.alice.client.renameGroup("Expiry", "Expired");
  await p.alice.client.send("Expired", "while you were away");
  await p.bob.client.sync();
  // 50 s on, everyone but Carol uses the relay (their queues stay alive; Alice writes to Carol's
  // 1:1 queue, which keeps it alive too); 70 s on, what was sent before expires.
  shift = 50_000;
  await p.alice.client.sync();
  await p.bob.client.sync();
  await p.alice.client.send("Carol", "are you there?");
  shift = 70_000;
  const expired = await relay.store.expire(Date.now() + shift);
  assert.ok(expired.messages >= 2, "the commit and the message expired");
  await p.alice.client.send("Expired", "after the expiry");
  await p.bob.client.sync();

  const events = await p.carol.client.sync();
  const asked = eventsOf(events, "group").filter((e) => e.change === "readd-requested");
  assert.equal(asked.length, 1, "Carol is told she fell out of the group and asked to be re-added");
  assert.equal(asked[0]?.change === "readd-requested" && asked[0].cause, "messages_expired");
  assert.equal(asked[0]?.change === "readd-requested" && asked[0].admin?.name, "Alice");
  const status = (await p.carol.client.conversations()).find((c) => c.kind === "group")?.status;
  assert.equal(status, "needs-readd");
  await assert.rejects(p.carol.client.send("Expiry", "lost?"), { code: "needs_readd" });
  // A second sync before Alice answers asks nobody again.
  const again = await p.carol.client.sync();
  assert.deepEqual(
    eventsOf(again, "group").filter((e) => e.change === "readd-requested"),
    [],
  );
  await healedAndTalking(p, "Expired");
});

/**
 * Between Carol and the relay: once armed, the first message of a non-empty fetch reply (a headed
 * frame) has one byte flipped — the commit she reads next cannot be processed.
 */
function damagingFetch() {
  const state = { armed: false };
  const fetchLike: FetchLike = async (input, init) => {
    const res = await fetch(input, init);
    const url = String(input instanceof Request ? input.url : input);
    if (!state.armed || !url.includes("/v1/queues/command") || !String(init?.body).includes('"fetch"'))
      return res;
    const bytes = new Uint8Array(await res.arrayBuffer());
    const headLength = new DataView(bytes.buffer).getUint32(0);
    const head = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + headLength))) as {
      messages?: unknown[];
    };
    if (head.messages?.length) {
      bytes[4 + headLength + 100]! ^= 0xff;
      state.armed = false;
    }
    return new Response(bytes, { status: res.status, headers: res.headers });
  };
  return { state, fetch: fetchLike };
}

it("a member that could not process a commit the others applied asks to be re-added, and is", async (t) => {
  const relay = await startTestRelay(t);
  const damage = damagingFetch();
  // Carol's clock, which the test moves on (the client reads time only through its `now`).
  let later = 0;
  const p = await cast(relay.url, "Damage", { fetch: damage.fetch, now: () => Date.now() + later });
  await p.alice.client.renameGroup("Damage", "Damaged");
  damage.state.armed = true;
  await p.alice.client.send("Damaged", "after the commit");
  await p.bob.client.sync();
  const first = await p.carol.client.sync();
  assert.equal(damage.state.armed, false, "the commit reached Carol damaged");
  assert.ok(eventsOf(first, "rejected").length >= 1, "the damaged commit was refused");
  assert.deepEqual(
    eventsOf(first, "group").filter((e) => e.change === "readd-requested"),
    [],
    "not at once: a commit may still be on its way",
  );
  // Ten minutes later, the message of the next epoch still waits for a commit that never comes.
  later = 11 * 60_000;
  const events = await p.carol.client.sync();
  const asked = eventsOf(events, "group").filter((e) => e.change === "readd-requested");
  assert.equal(asked.length, 1, "Carol is told, and asks to be re-added");
  assert.equal(asked[0]?.change === "readd-requested" && asked[0].cause, "commit_unreadable");
  await healedAndTalking(p, "Damaged");
});

it("an admin holding messages of a later epoch does not fall out: a forged epoch must not leave a group without admins", async (t) => {
  // The epoch of a message is in the clear: any member can deposit one that claims a later epoch,
  // and in a quiet group it would wait as long as a real one. Were admins to fall out on that, one
  // such message would leave nobody in step to re-add anyone.
  const relay = await startTestRelay(t);
  const damage = damagingFetch();
  let later = 0;
  const p = await cast(relay.url, "Quiet", { fetch: damage.fetch, now: () => Date.now() + later });
  await p.alice.client.setGroupAdmin("Quiet", "Carol", true);
  for (const x of [p.bob, p.carol, p.alice]) await x.client.sync();
  await p.alice.client.renameGroup("Quiet", "Still quiet");
  damage.state.armed = true;
  await p.alice.client.send("Still quiet", "after the commit");
  const first = await p.carol.client.sync();
  assert.equal(damage.state.armed, false, "the commit reached Carol damaged");
  assert.ok(eventsOf(first, "rejected").length >= 1);
  later = 11 * 60_000;
  const events = await p.carol.client.sync();
  assert.deepEqual(
    eventsOf(events, "group").filter((e) => e.change === "readd-requested"),
    [],
    "Carol, an admin, keeps her keys and asks nobody",
  );
  const carolView = (await p.carol.client.conversations()).find((c) => c.kind === "group");
  assert.equal(carolView?.status ?? "active", "active", "her group is not given up");
});
