/**
 * Linking and revoking devices (issue 13, docs/devices.md), against a real relay in this process:
 * a second device of Alice's joins her 1:1 chat and a group where she is not admin; both devices
 * receive what contacts send; what one sends shows on the other as ours; contacts see a "devices"
 * event; a wrong short code links nothing; a revoked device reads nothing new and what it sends is
 * refused.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { ParleyClient } from "../src/client/parley-client.js";
import { ParleyError } from "../src/errors.js";
import { LinkError } from "../src/messaging/device-link.js";
import { RelayError } from "../src/relay-client/errors.js";
import { RelayHttpClient } from "../src/relay-client/relay-http.js";
import { MemoryKeyValueStore } from "../src/storage/memory-store.js";
import { connect, crypto, engine, eventsOf, person, relayForThisFile } from "./helpers/people.js";

const relay = relayForThisFile();

const blank = () => new ParleyClient({ store: new MemoryKeyValueStore(), crypto, engine });

async function link(existing: ParleyClient, fresh: ParleyClient, name: string) {
  const offer = await existing.createDeviceLink();
  const [request, pending] = await Promise.all([
    existing.awaitLinkRequest(offer, 20_000),
    fresh.beginDeviceLink(offer.link, name),
  ]);
  assert.equal(request.code, pending.code, "both devices show the same short code");
  assert.match(pending.code, /^\d{6}$/);
  assert.equal(request.device, name);
  const [done, joined] = await Promise.all([
    existing.completeLink(request, pending.code, 20_000),
    fresh.finishDeviceLink(pending, 20_000),
  ]);
  return { done, joined };
}

/** Alice with a phone and a laptop, in a chat with Bob. */
async function twoDevices() {
  const alice = (await person("Alice", relay.url)).client;
  const bob = (await person("Bob", relay.url)).client;
  await connect(alice, bob);
  const laptop = blank();
  await link(alice, laptop, "laptop");
  await bob.sync();
  return { alice, bob, laptop };
}

/**
 * Alice with a phone, a tablet and a laptop, in a chat with Bob. The tablet is linked first, so
 * the laptop, linked after it, is told of it (and may revoke it too).
 */
async function threeDevices() {
  const alice = (await person("Alice", relay.url)).client;
  const bob = (await person("Bob", relay.url)).client;
  await connect(alice, bob);
  const tablet = blank();
  await link(alice, tablet, "tablet");
  const laptop = blank();
  await link(alice, laptop, "laptop");
  await bob.sync();
  await tablet.sync();
  return { alice, bob, tablet, laptop };
}

/** The texts a sync brings (sorted), once it is checked that it refused nothing. */
async function syncedTexts(client: ParleyClient): Promise<string[]> {
  const events = await client.sync();
  assert.deepEqual(eventsOf(events, "rejected"), []);
  return eventsOf(events, "message")
    .map((e) => e.message.text)
    .sort();
}

it("a linked device receives, sends as the person, and once revoked reads and sends nothing", async () => {
  const alice = (await person("Alice", relay.url)).client;
  const bob = (await person("Bob", relay.url)).client;
  const carol = (await person("Carol", relay.url)).client;
  await connect(alice, bob);
  await connect(bob, carol);
  // Bob's group: Alice is a member, not an admin, so adding her device is the same-identity rule.
  await bob.createGroup("Trio");
  await bob.addToGroup("Trio", ["Alice", "Carol"]);
  await alice.sync();
  await carol.sync();

  const laptop = blank();
  const { done, joined } = await link(alice, laptop, "laptop");
  assert.deepEqual(done.skipped, []);
  assert.deepEqual(joined.skipped, []);
  assert.equal(joined.joined.length, 2);
  const [ap, lp] = [await alice.profile(), await laptop.profile()];
  assert.equal(lp.identityPublicKey, ap.identityPublicKey, "same person");
  assert.notEqual(lp.deviceKey, ap.deviceKey, "its own device key");
  assert.deepEqual(
    (await laptop.contacts()).map((c) => c.name),
    ["Bob"],
  );

  // Contacts see that Alice added a device, in the chat and in the group.
  const bobSaw = eventsOf(await bob.sync(), "devices");
  assert.equal(bobSaw.length, 2);
  assert.ok(bobSaw.every((e) => e.by.identityKey === ap.identityPublicKey && e.added === 1));
  const carolSaw = eventsOf(await carol.sync(), "devices");
  assert.equal(carolSaw.length, 1);
  assert.ok(!eventsOf(await carol.sync(), "group").some((e) => e.change === "members"));

  // Both devices receive what Bob writes, in the chat and in the group.
  await bob.send("Alice", "hello both of you");
  await carol.send("Trio", "group hello");
  for (const device of [alice, laptop]) {
    const texts = eventsOf(await device.sync(), "message").map((e) => e.message.text);
    assert.deepEqual(texts.sort(), ["group hello", "hello both of you"]);
  }

  await bob.sync();
  // What the laptop sends reaches Bob from Alice, and shows on Alice's phone as hers.
  await laptop.send("Bob", "from my laptop");
  await laptop.send("Trio", "laptop in the group");
  const atBob = eventsOf(await bob.sync(), "message").map((e) => [
    e.message.text,
    e.message.from.identityKey,
  ]);
  assert.deepEqual(atBob.sort(), [
    ["from my laptop", ap.identityPublicKey],
    ["laptop in the group", ap.identityPublicKey],
  ]);
  const atPhone = eventsOf(await alice.sync(), "message").map((e) => [e.message.text, e.message.fromMe]);
  assert.deepEqual(atPhone.sort(), [
    ["from my laptop", true],
    ["laptop in the group", true],
  ]);
  // And the other way round; the laptop never shows a message twice.
  await alice.send("Bob", "from my phone");
  assert.deepEqual(
    eventsOf(await laptop.sync(), "message").map((e) => [e.message.text, e.message.fromMe]),
    [["from my phone", true]],
  );
  assert.deepEqual(eventsOf(await laptop.sync(), "message"), []);
  const laptopChat = (await laptop.messages("Bob")).map((m) => m.text);
  assert.deepEqual(laptopChat, ["hello both of you", "from my laptop", "from my phone"]);

  const listed = await alice.devices();
  assert.deepEqual(listed.map((d) => [d.name, d.current, d.conversations]).sort(), [
    ["", true, 2],
    ["laptop", false, 2],
  ]);

  // Revoked: removed everywhere, contacts see it, the laptop reads nothing new.
  const revoked = await alice.revokeDevice("laptop");
  assert.deepEqual(revoked.pending, []);
  assert.equal(revoked.revoked.length, 2);
  const bobSawRevoke = eventsOf(await bob.sync(), "devices");
  assert.ok(bobSawRevoke.some((e) => e.removed === 1));
  await carol.sync();
  await bob.send("Alice", "after the revocation");
  await carol.send("Trio", "group after the revocation");
  const phoneAfter = eventsOf(await alice.sync(), "message").map((e) => e.message.text);
  assert.deepEqual(phoneAfter.sort(), ["after the revocation", "group after the revocation"]);
  const laptopAfter = await laptop.sync().catch(() => []);
  assert.deepEqual(
    eventsOf(laptopAfter, "message").map((e) => e.message.text),
    [],
    "the revoked device decrypts nothing new",
  );
  await bob.sync();
  // What it still sends is refused: nothing of it reaches Bob's or Carol's history.
  await laptop.send("Bob", "sent by the revoked laptop").catch(() => undefined);
  await laptop.send("Trio", "revoked laptop in the group").catch(() => undefined);
  const bobEvents = await bob.sync();
  assert.deepEqual(eventsOf(bobEvents, "message"), []);
  // Refused with a reason, not dropped in silence (it signs with a device key Alice revoked).
  assert.ok(eventsOf(bobEvents, "rejected").some((e) => e.reason === "revoked_device"));
  assert.deepEqual(eventsOf(await carol.sync(), "message"), []);
  assert.ok(!(await bob.messages("Alice")).some((m) => m.text.includes("revoked laptop")));
  assert.ok(!(await alice.messages("Bob")).some((m) => m.text.includes("revoked laptop")));
  const after = await alice.devices();
  assert.ok(after.find((d) => d.name === "laptop")?.revoked);
});

it("a wrong short code links nothing, and a used link cannot be used again", async () => {
  const alice = (await person("Alice", relay.url)).client;
  const offer = await alice.createDeviceLink();
  const other = blank();
  const [request, pending] = await Promise.all([
    alice.awaitLinkRequest(offer, 20_000),
    other.beginDeviceLink(offer.link, "tablet"),
  ]);
  const wrong = pending.code === "000000" ? "000001" : "000000";
  await assert.rejects(
    alice.completeLink(request, wrong, 5_000),
    (e: unknown) => e instanceof ParleyError && e.code === "link_code_mismatch",
  );
  await assert.rejects(
    other.finishDeviceLink(pending, 1_000),
    (e: unknown) => e instanceof LinkError && e.reason === "timeout",
  );
  await assert.rejects(other.profile(), (e: unknown) => e instanceof ParleyError && e.code === "no_profile");
  await assert.rejects(
    blank().beginDeviceLink(offer.link, "thief"),
    (e: unknown) => e instanceof LinkError && e.reason === "gone",
  );
  // An invite link is not a device link.
  const invite = await alice.createInvite();
  await assert.rejects(blank().beginDeviceLink(invite.link, "x"), (e: unknown) => e instanceof LinkError);
});

it("a reset removes the person's other devices in the same commit", async () => {
  const { alice, bob, laptop } = await twoDevices();
  const reset = await alice.resetKeys();
  assert.deepEqual(reset.pending, []);
  const seen = await bob.sync();
  assert.ok(eventsOf(seen, "contact").some((e) => e.change === "key-reset"));
  await laptop.sync().catch(() => []);
  await bob.send("Alice", "after the reset");
  assert.deepEqual(
    eventsOf(await alice.sync(), "message").map((e) => e.message.text),
    ["after the reset"],
  );
  const atLaptop = await laptop.sync().catch(() => []);
  assert.deepEqual(eventsOf(atLaptop, "message"), [], "the other device reads nothing new");
  await laptop.send("Bob", "laptop after the reset").catch(() => undefined);
  const bobEvents = await bob.sync();
  assert.deepEqual(eventsOf(bobEvents, "message"), []);
  assert.ok(eventsOf(bobEvents, "rejected").some((e) => e.reason === "revoked_device"));
});

it("two devices committing in a 1:1 chat at once: the shared queue's first wins, the chat does not fork", async () => {
  const { alice, bob, tablet, laptop } = await threeDevices();

  // The phone and the laptop both revoke the tablet, at the same epoch: one removal commits, the
  // other device's commit loses and comes to nothing (the tablet is gone already).
  const both = await Promise.all([alice.revokeDevice("tablet"), laptop.revokeDevice("tablet")]);
  for (const r of both) assert.deepEqual(r.pending, [], "each device saw the tablet removed");
  await bob.sync();
  await alice.sync();
  await laptop.sync();

  // The chat is one chat on all three: Bob reads both devices; each device reads Bob and the other.
  await alice.send("Bob", "from the phone");
  await laptop.send("Bob", "from the laptop");
  await bob.send("Alice", "from Bob");
  assert.deepEqual(await syncedTexts(bob), ["from the laptop", "from the phone"]);
  assert.deepEqual(await syncedTexts(alice), ["from Bob", "from the laptop"]);
  assert.deepEqual(await syncedTexts(laptop), ["from Bob", "from the phone"]);
  const atTablet = await tablet.sync().catch(() => []);
  assert.deepEqual(eventsOf(atTablet, "message"), [], "the revoked tablet reads nothing new");
});

it("a revoked device cannot delete the old shared queue: the other devices still read the move", async () => {
  const { alice, bob, tablet, laptop } = await threeDevices();
  await laptop.sync();
  const chat = (await tablet.repo.conversations()).find((c) => c.kind === "direct")!;
  const old = chat.receive;

  assert.deepEqual((await alice.revokeDevice("tablet")).pending, []);
  // The tablet (in someone else's hands) holds the old shared queue's credentials, and tries to
  // delete it before the laptop read the move there: the relay never deletes a shared queue.
  await assert.rejects(
    new RelayHttpClient(relay.url, crypto).deleteQueue(old),
    (e: unknown) => e instanceof RelayError && e.status === 400,
  );
  await laptop.sync();
  const moved = await laptop.repo.conversation(chat.id);
  const atPhone = await alice.repo.conversation(chat.id);
  assert.notEqual(moved?.receive.queueId, old.queueId, "the laptop followed the move");
  assert.equal(moved?.receive.queueId, atPhone?.receive.queueId);
  await bob.sync();
  await bob.send("Alice", "after the move");
  assert.deepEqual(
    eventsOf(await laptop.sync(), "message").map((e) => e.message.text),
    ["after the move"],
  );
});

it("what one device reads is read on the others; each device's last activity is learnt end to end", async () => {
  const { alice, bob, laptop } = await twoDevices();
  await bob.send("Alice", "one");
  await bob.send("Alice", "two");
  await alice.sync();
  await laptop.sync();

  const read = await alice.markRead("Bob");
  assert.equal(read.ids.length, 2);
  await laptop.sync();
  // Read on the phone: nothing left to read on the laptop (and no second receipt goes to Bob).
  assert.deepEqual((await laptop.markRead("Bob")).ids, []);
  await bob.send("Alice", "three");
  await laptop.sync();
  assert.equal((await laptop.markRead("Bob")).ids.length, 1, "what came after is unread");
  await alice.sync();
  assert.deepEqual((await alice.markRead("Bob")).ids, []);

  // "Last active": each device knows the other's, from what that device sealed.
  const atPhone = (await alice.devices()).find((d) => d.name === "laptop");
  assert.ok(atPhone?.lastActive, "the phone knows when the laptop was last active");
  const atLaptop = (await laptop.devices()).find((d) => !d.current);
  assert.ok(atLaptop?.lastActive, "the laptop knows when the phone was last active");
  // Our devices' own group is no chat.
  assert.deepEqual(
    (await alice.conversations()).map((c) => c.name),
    ["Bob"],
  );
  assert.deepEqual(
    (await laptop.conversations()).map((c) => c.name),
    ["Bob"],
  );
});

it("a contact adding the person to a group adds each of their devices, in one commit", async () => {
  const { alice, bob, laptop } = await twoDevices(); // Bob now holds the laptop's KeyPackages too
  await bob.createGroup("Later");
  const members = await bob.addToGroup("Later", ["Alice"]);
  assert.equal(members.find((m) => !m.isMe)?.devices, 2);
  await bob.send("Later", "later hello");
  assert.deepEqual(await syncedTexts(alice), ["later hello"]);
  assert.deepEqual(await syncedTexts(laptop), ["later hello"]);
  await laptop.send("Later", "from the laptop");
  assert.deepEqual(await syncedTexts(bob), ["from the laptop"]);
});
