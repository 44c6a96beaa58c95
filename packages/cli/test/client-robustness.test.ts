/**
 * The client engine against a real in-process relay: what happens to forged, tampered, malformed
 * and redelivered messages. Each case must end with a clear rejection and an intact conversation.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type ParleyClient, pad, RelayHttpClient, Rfc9420Engine } from "@parley/core";
import { startRelay } from "@parley/server";
import { eventText } from "../src/words.js";
import { crypto, newMemoryClient, rejections, texts, warnings } from "./engine-helpers.js";
import { tempDir } from "./helpers.js";

let relay: { url: string; close(): Promise<void> };
let alice: ParleyClient;
let bob: ParleyClient;

const newClient = newMemoryClient;

/** Where Bob's messages to Alice go, read from Bob's own store. */
async function bobToAlice() {
  const [conv] = await bob.repo.conversations();
  return conv!.sendTo!;
}

before(async () => {
  relay = await startRelay({ port: 0, dataDir: tempDir("robust-relay") });
  alice = newClient();
  bob = newClient();
  await alice.init("Alice", relay.url);
  await bob.init("Bob", relay.url);
  const { link } = await alice.createInvite();
  await bob.acceptInvite(link);
  await alice.sync();
  await bob.send("Alice", "first");
  assert.deepEqual(texts(await alice.sync()), ["first"]);
});
after(async () => {
  await relay?.close();
});

test("a tampered ciphertext is rejected and the conversation goes on", async () => {
  const to = await bobToAlice();
  // Bob's client encrypts a real message; we flip one byte of it on the way.
  const [conv] = await bob.repo.conversations();
  const engine = new Rfc9420Engine(crypto);
  const state = engine.deserialize((await bob.repo.groupState(conv!.groupId))!);
  const { message } = await engine.encrypt(state, new TextEncoder().encode("{}"));
  const tampered = message.slice();
  tampered[tampered.length - 5]! ^= 0x01;
  await new RelayHttpClient(to.relay, crypto).send(to.sendId, pad(tampered));

  const events = await alice.sync();
  assert.deepEqual(texts(events), []);
  assert.equal(rejections(events).length, 1);

  await bob.send("Alice", "still works");
  assert.deepEqual(texts(await alice.sync()), ["still works"]);
});

test("a forged message from someone outside the group is rejected", async () => {
  const to = await bobToAlice();
  // Mallory knows the send address (say she saw it) but holds no group keys.
  const mallory = newClient();
  await mallory.init("Mallory", relay.url);
  const engine = new Rfc9420Engine(crypto);
  const { link } = await mallory.createInvite();
  const eve = newClient();
  await eve.init("Eve", relay.url);
  await eve.acceptInvite(link);
  const [eveConv] = await eve.repo.conversations();
  const eveState = engine.deserialize((await eve.repo.groupState(eveConv!.groupId))!);
  const forged = await engine.encrypt(eveState, new TextEncoder().encode("forged"));
  await new RelayHttpClient(to.relay, crypto).send(to.sendId, pad(forged.message));
  await new RelayHttpClient(to.relay, crypto).send(to.sendId, pad(crypto.randomBytes(300)));

  const events = await alice.sync();
  assert.deepEqual(texts(events), []);
  assert.equal(rejections(events).length, 2);
  assert.ok(!(await alice.messages("Bob")).some((m) => m.text === "forged"));
});

test("a redelivered message is shown once", async () => {
  const [conv] = await alice.repo.conversations();
  await bob.send("Alice", "once");
  const relayClient = new RelayHttpClient(relay.url, crypto);
  const pending = await relayClient.fetchMessages(conv!.receive);
  assert.equal(pending.length, 1);
  const { msgId, body } = pending[0]!;
  // Processed, but the ack is "lost": the relay delivers it again.
  assert.deepEqual(texts(await alice.receive(conv!.receive, msgId, body)), ["once"]);
  assert.deepEqual(texts(await alice.receive(conv!.receive, msgId, body)), []);
  assert.deepEqual(texts(await alice.sync()), []);
  assert.equal((await alice.messages("Bob")).filter((m) => m.text === "once").length, 1);
});

test("delivery receipts mark sent messages delivered", async () => {
  const sent = await bob.send("Alice", "did you get this?");
  assert.equal(sent.status, "sent");
  await alice.sync(); // Alice's client answers with a receipt
  const events = await bob.sync();
  assert.ok(events.some((e) => e.type === "delivered" && e.ids.includes(sent.id)));
  const history = await bob.messages("Alice");
  assert.equal(history.find((m) => m.id === sent.id)?.status, "delivered");
});

test("a relay that delivers out of order cannot change the order history shows", async () => {
  const conv = await alice.findConversation("Bob");
  await bob.send("Alice", "first of two");
  await new Promise((r) => setTimeout(r, 5));
  await bob.send("Alice", "second of two");
  const relayClient = new RelayHttpClient(relay.url, crypto);
  const pending = await relayClient.fetchMessages(conv!.receive);
  assert.equal(pending.length, 2);
  // The relay hands them over the wrong way round.
  for (const m of [...pending].reverse()) {
    await alice.receive(conv!.receive, m.msgId, m.body);
    await relayClient.ack(conv!.receive, m.msgId);
  }
  const history = (await alice.messages("Bob")).map((m) => m.text);
  assert.deepEqual(history.slice(-2), ["first of two", "second of two"]);
});

test("a group message delivered before the commit it follows is kept and shown once the commit arrives", async () => {
  await alice.createGroup("Reading circle");
  await alice.addToGroup("Reading circle", ["Bob"]);
  await bob.sync();
  const group = await bob.findConversation("Reading circle");
  const cursor = await bob.repo.cursor(group.receive.queueId);
  await alice.renameGroup("Reading circle", "Readers"); // a commit: the next epoch
  await alice.send("Readers", "sent in the new epoch");
  const relayClient = new RelayHttpClient(relay.url, crypto);
  const pending = await relayClient.fetchMessages(group.receive, cursor ? { after: cursor } : {});
  // Bob's own profile message may come first; then the commit, then the message.
  const [commit, message] = pending.slice(-2);
  assert.ok(commit && message, "the commit, then the message");
  // The relay hands the message over first, then the commit.
  const early = await bob.receive(group.receive, message!.msgId, message!.body);
  assert.deepEqual(rejections(early), [], "held, not rejected");
  assert.deepEqual(texts(early), []);
  const later = await bob.receive(group.receive, commit!.msgId, commit!.body);
  assert.deepEqual(texts(later), ["sent in the new epoch"]);
  assert.deepEqual(texts(await bob.sync()), [], "and only once");
  assert.equal((await bob.messages("Readers")).filter((m) => m.text === "sent in the new epoch").length, 1);
});

test("a message the relay drops is noticed when the next one arrives; a late one fills the gap", async () => {
  const conv = await alice.findConversation("Bob");
  await alice.sync();
  for (const text of ["one", "two (dropped)", "three"]) await bob.send("Alice", text);
  const relayClient = new RelayHttpClient(relay.url, crypto);
  const pending = await relayClient.fetchMessages(conv!.receive);
  // Anything older (a receipt Bob's client sent meanwhile) is delivered as it is.
  for (const m of pending.slice(0, -3)) {
    await alice.receive(conv!.receive, m.msgId, m.body);
    await relayClient.ack(conv!.receive, m.msgId);
  }
  const [one, dropped, three] = pending.slice(-3);
  assert.ok(one && dropped && three);
  await relayClient.ack(conv!.receive, dropped!.msgId); // the relay throws it away
  const first = await alice.receive(conv!.receive, one!.msgId, one!.body);
  assert.deepEqual(warnings(first), []);
  const next = await alice.receive(conv!.receive, three!.msgId, three!.body);
  assert.deepEqual(texts(next), ["three"]);
  assert.deepEqual(warnings(next), ["messages_missing"]);
  assert.match(
    next.flatMap((e) => (e.type === "warning" ? [eventText(e)] : [])).join(),
    /1 message from Bob did not arrive/,
  );
  // Had it only been late, it fills the gap without another warning.
  const late = await alice.receive(conv!.receive, dropped!.msgId, dropped!.body);
  assert.deepEqual(texts(late), ["two (dropped)"]);
  assert.deepEqual(warnings(late), []);
  await alice.sync();
});
