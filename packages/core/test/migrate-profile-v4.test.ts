/**
 * Local migration 4 (store/migrations.ts) on whole profiles: people who used Parley on TsMlsEngine
 * (a 1:1 chat, a group with messages) upgrade to Rfc9420Engine and carry on — messages both ways,
 * adds, removals and a rename, old history still there — and a group whose state TsMlsEngine had
 * left "exposed" becomes "needs-readd" (said once, refused with a typed error, never a crash) until
 * an admin removes and re-adds the device. Where ts-mls (a development dependency) is not installed,
 * the converter cannot load, and groups on TsMlsEngine states take that same "needs-readd" path.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type RunningRelay, startRelay } from "@parley/server";
import type { ClientEvent } from "../src/client/events.js";
import { ParleyClient } from "../src/client/parley-client.js";
import { nodeCryptoProvider as crypto } from "../src/crypto/node-provider.js";
import { ParleyError } from "../src/errors.js";
import { isTsMlsState } from "../src/mls/rfc9420-engine/from-ts-mls.js";
import { Rfc9420Engine } from "../src/mls/rfc9420-engine/index.js";
import { TsMlsEngine } from "../src/mls/ts-mls-engine.js";
import { MemoryKeyValueStore } from "../src/storage/memory-store.js";
import { json, unjson } from "../src/store/batch.js";
import { Keys, SCHEMA_VERSION } from "../src/store/keys.js";
import { loadTsMlsConverter, migrate } from "../src/store/migrations.js";
import type { ContactKeyPackage } from "../src/store/records.js";
import { b64, unb64 } from "../src/store/repository.js";

const ts = new TsMlsEngine(crypto);
const rfc = new Rfc9420Engine(crypto);

let relay: RunningRelay;
before(async () => {
  relay = await startRelay({ port: 0 });
});
after(async () => {
  await relay?.close();
});

interface Person {
  name: string;
  store: MemoryKeyValueStore;
  client: ParleyClient;
  key: string;
}

/** A profile as the previous version made it: TsMlsEngine. */
async function oldPerson(name: string): Promise<Person> {
  const store = new MemoryKeyValueStore();
  const client = new ParleyClient({ store, crypto, engine: ts });
  const profile = await client.init(name, relay.url);
  return { name, store, client, key: profile.identityPublicKey };
}

/**
 * The upgrade: the previous version wrote the same layout at version 3 (only the MLS states'
 * format differs), and the new version opens the profile with Rfc9420Engine.
 */
async function upgrade(p: Person): Promise<void> {
  await p.store.write([{ key: Keys.schema, value: json({ version: 3 }) }]);
  p.client = new ParleyClient({ store: p.store, crypto, engine: rfc });
}

async function connect(a: Person, b: Person) {
  const { link } = await a.client.createInvite();
  await b.client.acceptInvite(link);
  await a.client.sync();
  await b.client.sync();
}

const of = <T extends ClientEvent["type"]>(events: ClientEvent[], type: T) =>
  events.filter((e): e is Extract<ClientEvent, { type: T }> => e.type === type);
const texts = (events: ClientEvent[]) => of(events, "message").map((e) => e.message.text);
const groupChanges = (events: ClientEvent[]) => of(events, "group").map((e) => e.change);

async function groupState(p: Person, group: string) {
  const c = await p.client.findConversation(group);
  const s = await p.client.repo.groupState(c.groupId);
  assert.ok(s, `${p.name} has a state for ${group}`);
  return s;
}

async function rejects(p: Promise<unknown>, code: string) {
  await assert.rejects(p, (e: unknown) => e instanceof ParleyError && e.code === code);
}

describe("migration 4: profiles made on TsMlsEngine carry on with Rfc9420Engine", () => {
  it("1:1 and group: messages both ways, add, remove, rename, old history", {
    timeout: 120_000,
  }, async () => {
    const [alice, bob, carol, dave] = await Promise.all(["Alice", "Bob", "Carol", "Dave"].map(oldPerson));
    assert.ok(alice && bob && carol && dave);
    await connect(alice, bob);
    await connect(alice, carol);
    await connect(alice, dave);
    await alice.client.send("Bob", "before, to Bob");
    await bob.client.sync();
    await bob.client.send("Alice", "before, to Alice");
    await alice.client.sync();
    await alice.client.createGroup("Book club");
    await alice.client.addToGroup("Book club", ["Bob", "Carol"]);
    await bob.client.sync();
    await carol.client.sync();
    await carol.client.send("Book club", "before, from Carol");
    await bob.client.send("Book club", "before, from Bob");
    for (const p of [alice, bob, carol, dave]) await p.client.sync();
    for (const p of [alice, bob, carol]) assert.ok(isTsMlsState(await groupState(p, "Book club")));
    assert.ok(isTsMlsState(await groupState(alice, "Bob")));

    // A KeyPackage of Dave's that Rfc9420Engine refuses (as it does those older releases made with
    // GREASE outside their capabilities; here, one byte changed) is dropped by the migration.
    const daveId = (await alice.client.findContact("Dave")).id;
    const [[, good]] = (await alice.client.repo.theirKeyPackages(daveId)) as [[string, ContactKeyPackage]];
    const bad = unb64(good.keyPackage);
    bad[bad.length - 1]! ^= 1;
    const badKey = Keys.theirKeyPackage(daveId, "refused");
    await alice.store.write([{ key: badKey, value: json({ ...good, keyPackage: b64(bad) }) }]);

    for (const p of [alice, bob, carol, dave]) await upgrade(p);
    await alice.client.contacts(); // opens the profile: the migration runs
    assert.equal(await alice.store.get(badKey), undefined, "the refused KeyPackage is gone");
    // Three single-use ones and the last-resort one (client/key-packages.ts).
    assert.equal((await alice.client.repo.theirKeyPackages(daveId)).length, 4, "the others stay");
    // The first sync after the upgrade gives every contact fresh KeyPackages.
    for (const p of [alice, bob, carol, dave]) await p.client.sync();
    await alice.client.sync(); // what the others sent her in their first sync
    for (const p of [alice, bob, carol, dave]) {
      assert.deepEqual(unjson(await p.store.get(Keys.schema).then((v) => v!)), { version: SCHEMA_VERSION });
      assert.equal(await p.client.repo.afterMigration(), undefined, "nothing left to do after a sync");
    }
    for (const p of [alice, bob, carol]) {
      const s = await groupState(p, "Book club");
      assert.ok(!isTsMlsState(s), `${p.name}'s group state is converted`);
      assert.ok(rfc.deserialize(s).epoch >= 1n);
    }
    // Whatever KeyPackages of Dave's Alice holds now are ones Rfc9420Engine accepts.
    const stock = await alice.client.repo.theirKeyPackages(daveId);
    // The 4 kept, 3 fresh ones of each suite Rfc9420Engine speaks (1 and X-Wing), and a last-resort
    // one of X-Wing (suite 1's is among those kept).
    assert.equal(stock.length, 11, "Dave's fresh KeyPackages arrived");
    for (const [, kp] of stock) await rfc.inspectKeyPackage(unb64(kp.keyPackage));

    // 1:1, both ways.
    await alice.client.send("Bob", "after, to Bob");
    assert.deepEqual(texts(await bob.client.sync()), ["after, to Bob"]);
    await bob.client.send("Alice", "after, to Alice");
    assert.deepEqual(texts(await alice.client.sync()), ["after, to Alice"]);

    // The group, both ways.
    await carol.client.send("Book club", "after, from Carol");
    assert.deepEqual(texts(await alice.client.sync()), ["after, from Carol"]);
    assert.deepEqual(texts(await bob.client.sync()), ["after, from Carol"]);
    await alice.client.send("Book club", "after, from Alice");
    assert.deepEqual(texts(await carol.client.sync()), ["after, from Alice"]);

    // Commits with paths: an add, a removal, a rename.
    await alice.client.addToGroup("Book club", ["Dave"]);
    assert.deepEqual(groupChanges(await dave.client.sync()), ["joined"]);
    assert.deepEqual(groupChanges(await bob.client.sync()), ["members"]);
    await carol.client.sync();
    await alice.client.removeFromGroup("Book club", ["Carol"]);
    assert.ok(groupChanges(await carol.client.sync()).includes("removed"));
    assert.ok(groupChanges(await bob.client.sync()).includes("members"));
    await dave.client.sync();
    await alice.client.renameGroup("Book club", "Readers");
    assert.ok(groupChanges(await bob.client.sync()).includes("renamed"));
    assert.ok(groupChanges(await dave.client.sync()).includes("renamed"));
    await bob.client.send("Readers", "after the changes");
    assert.deepEqual(texts(await alice.client.sync()), ["after the changes"]);
    assert.deepEqual(texts(await dave.client.sync()), ["after the changes"]);
    const members = await alice.client.groupMembers("Readers");
    assert.deepEqual(members.map((m) => m.name).sort(), ["Alice", "Bob", "Dave"]);

    // History from before the upgrade is still there.
    const direct = (await bob.client.messages("Alice")).map((m) => m.text);
    assert.deepEqual(direct, ["before, to Bob", "before, to Alice", "after, to Bob", "after, to Alice"]);
    const group = (await bob.client.messages("Readers")).map((m) => m.text);
    for (const t of ["before, from Carol", "before, from Bob", "after, from Carol", "after the changes"])
      assert.ok(group.includes(t), `Bob's group history has "${t}"`);
  });

  it("an exposed group becomes needs-readd, said once, until an admin re-adds", {
    timeout: 120_000,
  }, async () => {
    const [alice, bob, carol] = await Promise.all(["Alice", "Bob", "Carol"].map(oldPerson));
    assert.ok(alice && bob && carol);
    await connect(alice, bob);
    await connect(alice, carol);
    await alice.client.createGroup("Hikers");
    await alice.client.addToGroup("Hikers", ["Bob", "Carol"]);
    await bob.client.sync();
    await carol.client.sync();
    await alice.client.send("Hikers", "before");
    await bob.client.sync();
    await carol.client.sync();
    // Bob's state as TsMlsEngine stores it between a path-less removal and its repair commit: the
    // "exposed" flag (bit 0 of the epoch part's second byte, mls/state-codec.ts).
    const hikers = await bob.client.findConversation("Hikers");
    const exposedPart = (await bob.store.get(Keys.mlsEpochPart(hikers.groupId)))!.slice();
    exposedPart[1] = 1;
    await bob.store.write([{ key: Keys.mlsEpochPart(hikers.groupId), value: exposedPart }]);

    for (const p of [alice, bob, carol]) await upgrade(p);
    const first = of(await bob.client.sync(), "group");
    assert.equal(first.length, 1);
    assert.ok(first[0]?.change === "needs-readd");
    assert.equal(first[0].name, "Hikers");
    assert.match(first[0].reason, /exposed/);
    assert.deepEqual(of(await bob.client.sync(), "group"), [], "said once");

    const view = (await bob.client.conversations()).find((c) => c.id === hikers.id);
    assert.equal(view?.status, "needs-readd");
    assert.equal(view?.canSend, false);
    assert.match(view?.statusReason ?? "", /exposed/);
    await rejects(bob.client.send("Hikers", "hello?"), "needs_readd");
    await rejects(bob.client.groupMembers("Hikers"), "needs_readd");
    assert.equal(await bob.client.repo.groupState(hikers.groupId), undefined, "its keys are gone");
    assert.deepEqual(
      (await bob.client.messages("Hikers")).map((m) => m.text),
      ["before"],
      "history stays",
    );
    // Everything else of Bob's carries on.
    await bob.client.send("Alice", "still here");
    await carol.client.sync();
    await carol.client.send("Hikers", "Carol carries on");
    assert.deepEqual(texts(await alice.client.sync()).sort(), ["Carol carries on", "still here"]);

    // An admin removes and re-adds Bob: the group is his again, with its history.
    await alice.client.removeFromGroup("Hikers", ["Bob"]);
    await alice.client.addToGroup("Hikers", ["Bob"]);
    assert.ok(groupChanges(await bob.client.sync()).includes("joined"));
    const back = await bob.client.findConversation("Hikers");
    assert.ok(back.kind === "group" && back.status === "active");
    assert.equal(back.id, hikers.id);
    await carol.client.sync();
    await bob.client.send("Hikers", "back again");
    assert.deepEqual(texts(await carol.client.sync()), ["back again"]);
    assert.deepEqual(texts(await alice.client.sync()), ["back again"]);
    const history = (await bob.client.messages("Hikers")).map((m) => m.text);
    assert.ok(history.includes("before") && history.includes("back again"));
  });

  it("without ts-mls installed, a group on a TsMlsEngine state becomes needs-readd, never a crash", {
    timeout: 120_000,
  }, async () => {
    const [alice, bob] = await Promise.all(["Alice", "Bob"].map(oldPerson));
    assert.ok(alice && bob);
    await connect(alice, bob);
    await alice.client.createGroup("Cyclists");
    await alice.client.addToGroup("Cyclists", ["Bob"]);
    await bob.client.sync();
    await alice.client.send("Cyclists", "before");
    await bob.client.sync();
    const cyclists = await bob.client.findConversation("Cyclists");
    assert.ok(isTsMlsState(await groupState(bob, "Cyclists")));

    // The default loader finds the converter here (ts-mls is installed for development) …
    assert.equal(typeof (await loadTsMlsConverter()).convertTsMlsState, "function");
    // … a production install has no ts-mls: the import fails as Node says it then.
    let asked = 0;
    const missing = async () => {
      asked++;
      throw new Error("Cannot find package 'ts-mls' imported from …/@parley/core/dist/src/ts-mls.js");
    };
    await bob.store.write([{ key: Keys.schema, value: json({ version: 3 }) }]);
    assert.equal(await migrate(bob.store, { crypto, loadTsMlsConverter: missing }), 3);
    assert.equal(asked, 1, "loaded once, for the first state not in Rfc9420Engine's format");
    bob.client = new ParleyClient({ store: bob.store, crypto, engine: rfc });

    const changes = of(await bob.client.sync(), "group");
    assert.equal(changes.length, 1);
    assert.ok(changes[0]?.change === "needs-readd");
    assert.equal(changes[0].name, "Cyclists");
    assert.match(changes[0].reason, /ts-mls is not installed/);
    const view = (await bob.client.conversations()).find((c) => c.id === cyclists.id);
    assert.equal(view?.status, "needs-readd");
    await rejects(bob.client.send("Cyclists", "hello?"), "needs_readd");
    assert.equal(await bob.client.repo.groupState(cyclists.groupId), undefined, "its keys are gone");
    assert.deepEqual(
      (await bob.client.messages("Cyclists")).map((m) => m.text),
      ["before"],
      "history stays",
    );
  });
});
