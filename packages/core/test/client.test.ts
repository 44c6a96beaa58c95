/**
 * ParleyClient in process, against a real relay: the engine's views, typed errors and structured
 * events, and the local store's layout (no identity key in a store key, migrations from the
 * layout before versions).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type RunningRelay, startRelay } from "@parley/server";
import type { ClientEvent } from "../src/client/events.js";
import { ParleyClient } from "../src/client/parley-client.js";
import { nodeCryptoProvider as crypto } from "../src/crypto/node-provider.js";
import { ParleyError } from "../src/errors.js";
import { Rfc9420Engine } from "../src/mls/rfc9420-engine/index.js";
import { MemoryKeyValueStore } from "../src/storage/memory-store.js";
import { json, unjson } from "../src/store/batch.js";
import { Keys, SCHEMA_VERSION } from "../src/store/keys.js";
import { migrate } from "../src/store/migrations.js";

// In process: the relay no longer depends on core, so core's tests may import it.
let relay: RunningRelay;
before(async () => {
  relay = await startRelay({ port: 0 });
});
after(async () => {
  await relay?.close();
});

const engine = new Rfc9420Engine(crypto);
const newClient = (store = new MemoryKeyValueStore()) => ({
  store,
  client: new ParleyClient({ store, crypto, engine }),
});

async function person(name: string) {
  const { store, client } = newClient();
  const profile = await client.init(name, relay.url);
  return { store, client, key: profile.identityPublicKey };
}

async function connect(a: ParleyClient, b: ParleyClient) {
  const { link } = await a.createInvite();
  await b.acceptInvite(link);
  await a.sync();
  await b.sync();
}

const of = <T extends ClientEvent["type"]>(events: ClientEvent[], type: T) =>
  events.filter((e): e is Extract<ClientEvent, { type: T }> => e.type === type);

async function rejects(p: Promise<unknown>, code: string, data?: Record<string, unknown>) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof ParleyError, String(e));
    assert.equal(e.code, code);
    if (data) assert.deepEqual(e.data, data);
    return true;
  });
}

/** Every key of a store: none may hold an identity key or a device key of anyone. */
async function assertNoKeysInStoreKeys(store: MemoryKeyValueStore, secrets: string[]) {
  for (const [key] of await store.list("")) {
    for (const s of secrets) assert.ok(!key.includes(s), `store key ${key} holds ${s}`);
  }
}

describe("ParleyClient against a relay", () => {
  let alice: Awaited<ReturnType<typeof person>>;
  let bob: Awaited<ReturnType<typeof person>>;
  let carol: Awaited<ReturnType<typeof person>>;

  before(async () => {
    alice = await person("Alice");
    bob = await person("Bob");
    carol = await person("Carol");
    await connect(alice.client, bob.client);
    await connect(alice.client, carol.client);
  });

  it("sends, receives once, and marks delivered; views carry identity keys", async () => {
    await alice.client.send("Bob", "hello Bob");
    const events = await bob.client.sync();
    const [message] = of(events, "message");
    assert.equal(message?.message.text, "hello Bob");
    assert.deepEqual(message?.message.from, { identityKey: alice.key, name: "Alice", relation: "contact" });
    assert.deepEqual(of(await bob.client.sync(), "message"), [], "shown once");
    const delivered = of(await alice.client.sync(), "delivered");
    assert.equal(delivered.length, 1);
    const [mine] = await alice.client.messages("Bob");
    assert.equal(mine?.status, "delivered");
    assert.equal(mine?.from.relation, "me");
    const [contact] = await bob.client.contacts();
    assert.equal(contact?.identityKey, alice.key);
  });

  it('takes an id marked "#" (the CLI marks ids that start with "-"); a name that starts with "#" is a name', async () => {
    const group = await alice.client.createGroup("#general");
    const bobContact = await alice.client.findContact("Bob");
    const direct = await alice.client.findConversation("Bob");
    assert.equal((await alice.client.findContact(`#${bobContact.id}`)).id, bobContact.id);
    assert.equal((await alice.client.findConversation(`#${direct.id}`)).id, direct.id);
    assert.equal((await alice.client.findConversation(`#${group.id}`)).id, group.id);
    assert.equal((await alice.client.groupMembers(`#${group.id}`)).length, 1);
    assert.equal((await alice.client.findConversation("#general")).id, group.id);
    assert.equal((await alice.client.groupMembers("#general")).length, 1);
    await rejects(alice.client.findContact(`#x${bobContact.id}`), "unknown_contact");
    await rejects(alice.client.findConversation("#nosuch"), "unknown_contact");
  });

  it("refuses with typed codes and data", async () => {
    await rejects(alice.client.send("Nobody", "hi"), "unknown_contact", { name: "Nobody", groups: true });
    await rejects(alice.client.send("Bob", ""), "empty", { what: "text" });
    await rejects(alice.client.createGroup("a\nb"), "bad_name");
    await rejects(alice.client.init("Alice", relay.url), "exists", {});
    await rejects(
      new ParleyClient({ store: new MemoryKeyValueStore(), crypto, engine }).contacts(),
      "no_profile",
    );
  });

  it("reports group changes as structured events with the people's identity keys", async () => {
    await alice.client.createGroup("Hikers");
    await alice.client.addToGroup("Hikers", ["Bob"]);
    const joined = of(await bob.client.sync(), "group").find((e) => e.change === "joined");
    assert.ok(joined && joined.change === "joined");
    assert.equal(joined.by.identityKey, alice.key);

    await alice.client.addToGroup("Hikers", ["Carol"]);
    await carol.client.sync();
    const members = of(await bob.client.sync(), "group").find((e) => e.change === "members");
    assert.ok(members && members.change === "members");
    assert.deepEqual(
      members.added.map((p) => [p.identityKey, p.relation]),
      [[carol.key, "member"]],
    );
    assert.deepEqual(members.removed, []);

    // Carol is not Bob's contact: her view carries her key and the name she gave the group.
    await carol.client.send("Hikers", "hi all");
    const [fromCarol] = of(await bob.client.sync(), "message");
    assert.deepEqual(fromCarol?.message.from, { identityKey: carol.key, name: "Carol", relation: "member" });
    const view = (await bob.client.groupMembers("Hikers")).find((m) => m.identityKey === carol.key);
    assert.equal(view?.safety, "member");
    assert.equal(view?.name, "Carol");

    await rejects(bob.client.addToGroup("Hikers", ["Alice"]), "not_admin", { group: "Hikers" });
    await rejects(alice.client.addToGroup("Hikers", ["Bob"]), "already_member", {
      contact: "Bob",
      group: "Hikers",
    });

    await alice.client.setGroupAdmin("Hikers", "Bob", true);
    const roles = of(await bob.client.sync(), "group").find((e) => e.change === "roles");
    assert.ok(roles && roles.change === "roles");
    assert.deepEqual(
      roles.promoted.map((p) => [p.identityKey, p.relation]),
      [[bob.key, "me"]],
    );

    await alice.client.renameGroup("Hikers", "Walkers");
    const renamed = of(await carol.client.sync(), "group").find((e) => e.change === "renamed");
    assert.ok(renamed && renamed.change === "renamed");
    assert.equal(renamed.from, "Hikers");
    assert.equal(renamed.name, "Walkers");
    await bob.client.sync();

    await alice.client.removeFromGroup("Walkers", [carol.key]);
    const removed = of(await bob.client.sync(), "group").find((e) => e.change === "members");
    assert.ok(removed && removed.change === "members");
    assert.deepEqual(
      removed.removed.map((p) => [p.identityKey, p.name]),
      [[carol.key, "Carol"]],
    );
    assert.ok(of(await carol.client.sync(), "group").some((e) => e.change === "removed"));
    await rejects(carol.client.send("Walkers", "let me in"), "not_member", { group: "Walkers" });
  });

  it("keeps no identity or device key of anyone in a store key", async () => {
    const keys = [alice.key, bob.key, carol.key];
    for (const p of [alice, bob, carol]) {
      const profile = await p.client.profile();
      keys.push(profile.deviceKey);
    }
    for (const p of [alice, bob, carol]) await assertNoKeysInStoreKeys(p.store, keys);
  });
});

describe("local schema migrations", () => {
  it("a new profile starts at the current version", async () => {
    const { store, client } = newClient();
    await client.init("Dana", relay.url);
    assert.deepEqual(unjson(await store.get(Keys.schema)!.then((v) => v!)), { version: SCHEMA_VERSION });
  });

  it("a profile in the layout before versions is migrated: records, member names, ratchet marks", async () => {
    // A real profile (Bob, in a group with Carol who is not his contact), rewritten into the
    // version 1 layout: conversations as one bag of optionals, member names and ratchet marks
    // under store keys that hold identity and device keys.
    const alice = await person("Alice");
    const bob = await person("Bob");
    const carol = await person("Carol");
    await connect(alice.client, bob.client);
    await connect(alice.client, carol.client);
    await alice.client.createGroup("Book club");
    await alice.client.addToGroup("Book club", ["Bob", "Carol"]);
    await bob.client.sync();
    await carol.client.sync();
    await carol.client.send("Book club", "hello");
    await bob.client.sync();
    const carolDevice = (await carol.client.profile()).deviceKey;

    const v1 = new MemoryKeyValueStore();
    const writes = [];
    for (const [key, value] of await bob.store.list("")) {
      if (key === Keys.schema || key.startsWith("ratchet/")) continue;
      if (key.startsWith("gnames/")) {
        const conv = key.slice("gnames/".length);
        for (const [identityKey, name] of Object.entries(unjson<Record<string, string>>(value))) {
          writes.push({ key: `gname/${conv}/${identityKey}`, value: json(name) });
        }
        continue;
      }
      if (key.startsWith("conv/")) {
        const c = unjson<Record<string, unknown>>(value);
        const old =
          c.kind === "group"
            ? { ...c, contactId: "", previousQueues: undefined, status: undefined }
            : { ...c };
        writes.push({ key, value: json(old) });
        continue;
      }
      writes.push({ key, value });
    }
    const groupConv = (await bob.client.findConversation("Book club")).id;
    writes.push({ key: `gen/${groupConv}/${carolDevice}`, value: json({ epoch: "2", generation: 0 }) });
    await v1.write(writes);
    assert.ok((await v1.list("gname/")).length > 0, "the old layout has member names in clear keys");

    // Opening it migrates it; Bob's view of the group is as before.
    const reopened = new ParleyClient({ store: v1, crypto, engine });
    const members = await reopened.groupMembers("Book club");
    assert.equal(members.find((m) => m.identityKey === carol.key)?.name, "Carol");
    assert.deepEqual(unjson(await v1.get(Keys.schema).then((v) => v!)), { version: SCHEMA_VERSION });
    assert.deepEqual(await v1.list("gname/"), []);
    assert.deepEqual(await v1.list("gen/"), []);
    await assertNoKeysInStoreKeys(v1, [carol.key, carolDevice, alice.key]);
    const group = await reopened.findConversation("Book club");
    assert.ok(group.kind === "group");
    assert.equal(group.status, "active");
    assert.deepEqual(group.previousQueues, []);
    assert.ok(!("contactId" in group));

    // And it carries on: a new message from Carol, named as before.
    await carol.client.send("Book club", "still here");
    const [m] = of(await reopened.sync(), "message");
    assert.deepEqual(m?.message.from, { identityKey: carol.key, name: "Carol", relation: "member" });
    assert.equal(await migrate(v1, { crypto }), SCHEMA_VERSION, "a second run finds nothing to do");
  });

  it("refuses a profile from a newer version", async () => {
    const store = new MemoryKeyValueStore();
    await store.write([{ key: Keys.schema, value: json({ version: SCHEMA_VERSION + 1 }) }]);
    await rejects(new ParleyClient({ store, crypto, engine }).contacts(), "profile_too_new");
  });
});
