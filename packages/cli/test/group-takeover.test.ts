/**
 * The group takeover, made as an attacker would make it: Mallory, a member (later a removed one),
 * runs a modified client that builds a new MLS group under the id of a group she shares with Bob,
 * names herself admin, and sends Bob an ordinary `group-invite` over their 1:1 chat. Bob's client
 * must keep his group as it is: the invite is rejected, Alice stays admin, and Alice's messages
 * still arrive. The same holds for an invite (or an invite answer) that reuses the id of a 1:1
 * conversation. A legitimate re-add by an admin after a removal still works.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  type ClientEvent,
  encodeGroupMetadata,
  keyPackageCipherSuiteId,
  openInvite,
  type ParleyClient,
  pad,
  parseInviteLink,
  RelayHttpClient,
  Rfc9420Engine,
  unb64,
} from "@parley/core";
import { startRelay } from "@parley/server";
import { connectClients, crypto, newMemoryClient, rejections, said } from "./engine-helpers.js";
import { tempDir } from "./helpers.js";

const engine = new Rfc9420Engine(crypto);
let relay: { url: string; close(): Promise<void> };
let alice: ParleyClient;
let bob: ParleyClient;
let mallory: ParleyClient;

const newClient = newMemoryClient;
const joins = (events: ClientEvent[]) => events.filter((e) => e.type === "group" && e.change === "joined");

const connect = connectClients;

/** The parts of Mallory's client that a modified client calls directly. */
interface Modified {
  device(p: unknown): Parameters<Rfc9420Engine["createKeyPackage"]>[0];
  sendContentLocked(conversationId: string, body: unknown): Promise<void>;
  keyPackageId(publicMessage: Uint8Array): Promise<string>;
  relay(url: string): { createQueue(o: { broadcast: true }): Promise<unknown> };
}

/**
 * Mallory's modified client: a new MLS group under `groupId` with Mallory as its only admin and
 * `victim` added with a KeyPackage the victim gave Mallory, announced to the victim over 1:1.
 */
async function forgeInvite(attacker: ParleyClient, victimName: string, groupId: Uint8Array, name: string) {
  const m = attacker as unknown as Modified;
  const profile = await attacker.profile();
  const device = m.device(profile);
  const victim = await attacker.findContact(victimName);
  // One of suite 1, the suite of the group made below (the victim gave X-Wing ones too).
  const stock = (await attacker.repo.theirKeyPackages(victim.id)).find(
    ([, k]) => keyPackageCipherSuiteId(unb64(k.keyPackage)) === 1,
  );
  assert.ok(stock, "Mallory holds one of the victim's key packages");
  const self = await engine.createKeyPackage(device);
  const meta = encodeGroupMetadata({ v: 1, name, admins: [profile.identityPublicKey] });
  const created = await engine.createGroup(groupId, device, self, meta);
  const added = await engine.commit(created, { add: [unb64(stock[1].keyPackage)] });
  const queue = await m.relay(profile.relay).createQueue({ broadcast: true });
  const keyPackageRef = await m.keyPackageId(unb64(stock[1].keyPackage));
  await m.sendContentLocked(victim.conversationId, {
    type: "group-invite",
    welcome: Buffer.from(added.welcome!).toString("base64url"),
    keyPackageRef,
    queue,
  });
}

async function groupIdOf(client: ParleyClient, name: string): Promise<Uint8Array> {
  const conversation = await client.findConversation(name);
  return unb64(conversation.groupId);
}

before(async () => {
  relay = await startRelay({ port: 0, dataDir: tempDir("takeover-relay") });
  alice = newClient();
  bob = newClient();
  mallory = newClient();
  await alice.init("Alice", relay.url);
  await bob.init("Bob", relay.url);
  await mallory.init("Mallory", relay.url);
  await connect(alice, bob);
  await connect(alice, mallory);
  await connect(mallory, bob);
  // Mallory needs several of Bob's KeyPackages for the attacks below: each use is followed by a new one.
  await alice.createGroup("Book club");
  await alice.addToGroup("Book club", ["Bob", "Mallory"]);
  assert.equal(joins(await bob.sync()).length, 1);
  assert.equal(joins(await mallory.sync()).length, 1);
  await alice.sync();
});
after(async () => {
  await relay?.close();
});

async function assertGroupIntact(text: string) {
  const members = await bob.groupMembers("Book club");
  const admins = members.filter((m) => m.role === "admin").map((m) => m.name);
  assert.deepEqual(admins, ["Alice"], "Alice is still the only admin on Bob's side");
  await alice.send("Book club", text);
  assert.deepEqual(said(await bob.sync()), [`Alice: ${text}`], "Alice's messages still reach Bob");
  await bob.send("Book club", `re: ${text}`);
  assert.ok(said(await alice.sync()).includes(`Bob: re: ${text}`), "Bob's replies reach Alice");
}

test("an invite may not reuse the id of a 1:1 conversation", async () => {
  const direct = await bob.findConversation("Alice");
  await bob.sync();
  await mallory.sync();
  await forgeInvite(mallory, "Bob", unb64(direct.groupId), "Not a chat");
  const events = await bob.sync();
  assert.equal(joins(events).length, 0);
  assert.equal(rejections(events).length, 1);
  assert.deepEqual(await bob.findConversation("Alice"), direct);
  await alice.send("Bob", "our chat still works");
  assert.deepEqual(said(await bob.sync()), ["Alice: our chat still works"]);
});

test("a member cannot replace another member's group by re-using its id", async () => {
  const conversationBefore = await bob.findConversation("Book club");
  await forgeInvite(mallory, "Bob", await groupIdOf(mallory, "Book club"), "Book club");
  const events = await bob.sync();
  assert.equal(joins(events).length, 0, "the forged invite was not joined");
  assert.equal(rejections(events).length, 1);
  assert.match(rejections(events)[0]!, /already in/);
  const conversationAfter = await bob.findConversation("Book club");
  assert.deepEqual(conversationAfter, conversationBefore, "Bob's group record is untouched");
  await assertGroupIntact("after the first attempt");
});

test("a removed member cannot take the group over either", async () => {
  const groupId = await groupIdOf(mallory, "Book club");
  await alice.removeFromGroup("Book club", ["Mallory"]);
  await bob.sync();
  await mallory.sync();
  await mallory.sync(); // a fresh KeyPackage from Bob, after the last one was spent
  await forgeInvite(mallory, "Bob", groupId, "Book club");
  const events = await bob.sync();
  assert.equal(joins(events).length, 0);
  assert.equal(rejections(events).length, 1);
  await assertGroupIntact("after the removed member's attempt");
});

test("an invite answer may not reuse the id of a conversation either", async () => {
  // Bob hands out an invite link; Mallory's modified client answers it with a Welcome to a group
  // built under the id of Bob's "Book club".
  const { link } = await bob.createInvite();
  const parsed = parseInviteLink(link);
  const relayClient = new RelayHttpClient(parsed.relay, crypto);
  const payload = await openInvite(crypto, parsed.key, await relayClient.claimInvite(parsed.inviteId));
  const device = (mallory as unknown as Modified).device(await mallory.profile());
  const self = await engine.createKeyPackage(device);
  const state = await engine.createGroup(await groupIdOf(bob, "Book club"), device, self);
  const added = await engine.addMembers(state, [unb64(payload.keyPackage)]);
  await relayClient.send(payload.sendId, pad(added.welcome));
  const events = await bob.sync();
  assert.equal(rejections(events).length, 1);
  assert.match(rejections(events)[0]!, /reused the id/);
  await assertGroupIntact("after a forged invite answer");
});

test("a real new group from the same member is joined under a new local id", async () => {
  await mallory.sync();
  await forgeInvite(mallory, "Bob", crypto.randomBytes(32), "Mallory's own");
  const events = await bob.sync();
  assert.equal(joins(events).length, 1, "an invite to a group Bob does not have is fine");
  const ids = (await bob.conversations()).map((c) => c.id);
  assert.equal(new Set(ids).size, ids.length);
  await assertGroupIntact("after Mallory's own group");
});

test("an admin can still add back someone who was removed", async () => {
  await alice.removeFromGroup("Book club", ["Bob"]);
  const removed = await bob.sync();
  assert.ok(removed.some((e) => e.type === "group" && e.change === "removed"));
  const before = await bob.findConversation("Book club");
  await alice.sync();
  await alice.addToGroup("Book club", ["Bob"]);
  const events = await bob.sync();
  assert.equal(joins(events).length, 1);
  assert.equal((await bob.findConversation("Book club")).id, before.id, "history kept on re-join");
  await assertGroupIntact("after the re-add");
});
