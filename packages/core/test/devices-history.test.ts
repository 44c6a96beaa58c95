/**
 * `--with-history` (issue 13, docs/devices.md "History"), against a real relay in this process:
 * Alice's second device gets the history of her 1:1 chat and her group — texts, a reply, an edit,
 * a reaction, a deletion, a file message — and her feed's post with its comment and like, in the
 * same order as on her phone, nothing unread; without the option it gets none; a malformed history
 * chunk is a LinkError and leaves no profile.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { ParleyClient } from "../src/client/parley-client.js";
import type { MessageView } from "../src/client/views.js";
import { utf8 } from "../src/encoding/bytes.js";
import { ParleyError } from "../src/errors.js";
import { bytesSource } from "../src/files/codec.js";
import { LinkError, type LinkStep, sealLinkStep } from "../src/messaging/device-link.js";
import { pad } from "../src/protocol/padding.js";
import { MemoryKeyValueStore } from "../src/storage/memory-store.js";
import { connect, crypto, engine, person, relayForThisFile } from "./helpers/people.js";

const relay = relayForThisFile();

const blank = () => new ParleyClient({ store: new MemoryKeyValueStore(), crypto, engine });

async function link(
  existing: ParleyClient,
  fresh: ParleyClient,
  options: { withHistory?: boolean; historyChunkBytes?: number } = {},
) {
  const offer = await existing.createDeviceLink();
  const [request, pending] = await Promise.all([
    existing.awaitLinkRequest(offer, 20_000),
    fresh.beginDeviceLink(offer.link, "laptop"),
  ]);
  const [done, joined] = await Promise.all([
    existing.completeLink(request, pending.code, 20_000, options),
    fresh.finishDeviceLink(pending, 20_000),
  ]);
  return { done, joined };
}

/** What a history shows of each message, device-independent (a file's deletability is not). */
const shown = (all: MessageView[]) =>
  all.map((m) => ({
    id: m.id,
    text: m.text,
    fromMe: m.fromMe,
    from: m.from.identityKey,
    status: m.status,
    sentAt: m.sentAt,
    quote: m.quote?.text,
    edited: m.edited,
    deleted: m.deleted,
    reactions: m.reactions,
    file: m.file ? [m.file.name, m.file.size] : undefined,
  }));

/** Alice with Bob, a group with him, and some of everything in both, and a post of hers. */
async function aliceWithHistory() {
  const alice = (await person("Alice", relay.url)).client;
  const bob = (await person("Bob", relay.url)).client;
  await connect(alice, bob);
  await alice.createGroup("Club");
  await alice.addToGroup("Club", ["Bob"]);
  await bob.sync();

  const one = await alice.send("Bob", "one");
  await bob.sync();
  const two = await bob.send("Alice", "two");
  await alice.sync();
  await alice.reply("Bob", two.id, "three, a reply to two");
  await alice.editMessage("Bob", one.id, "one, edited");
  await alice.sendFile("Bob", {
    source: bytesSource(utf8("the notes")),
    name: "notes.txt",
    caption: "notes",
  });
  await bob.sync();
  await bob.react("Alice", one.id, "👍");
  const oops = await bob.send("Alice", "oops");
  await bob.deleteMessage("Alice", oops.id);
  await alice.send("Club", "hello club");
  await bob.sync();
  await bob.send("Club", "hello from Bob");
  const post = await alice.post({ text: "my first post" });
  await bob.sync();
  await bob.comment(post.id, "nice post");
  await bob.like(post.id);
  await alice.sync();
  return { alice, bob };
}

it("with history, the new device shows the same history in the same order, nothing unread", async () => {
  const { alice, bob } = await aliceWithHistory();
  const laptop = blank();
  // Small chunks: the history crosses in several steps.
  const { done, joined } = await link(alice, laptop, { withHistory: true, historyChunkBytes: 1024 });
  assert.deepEqual(joined.skipped, []);
  assert.ok(done.history && done.history.chunks > 1, `several chunks: ${JSON.stringify(done.history)}`);
  assert.equal(done.history.unsendable, 0);
  assert.deepEqual(joined.history, { messages: done.history.messages, posts: 1 });

  const phoneChat = shown(await alice.messages("Bob"));
  assert.equal(phoneChat.length, 5);
  assert.deepEqual(shown(await laptop.messages("Bob")), phoneChat);
  assert.deepEqual(shown(await laptop.messages("Club")), shown(await alice.messages("Club")));
  const chat = await laptop.messages("Bob");
  assert.equal(chat[0]!.text, "one, edited");
  assert.ok(chat[0]!.edited);
  assert.deepEqual(
    chat[0]!.reactions?.map((r) => r.emoji),
    ["👍"],
  );
  assert.equal(chat[2]!.quote?.text, "two");
  assert.equal(chat[3]!.file?.name, "notes.txt");
  assert.equal(chat[3]!.file?.deletable, false, "the delete capability stays on the phone");
  assert.ok(chat[4]!.deleted);
  assert.equal(chat[4]!.text, "");

  const feedOf = async (c: ParleyClient) =>
    (await c.feed()).map((p) => [p.text, p.comments.map((x) => x.text), p.likes]);
  assert.deepEqual(await feedOf(laptop), await feedOf(alice));
  assert.equal((await feedOf(laptop)).length, 1);

  // Old history is read: nothing to mark, no read receipt for it.
  assert.deepEqual(await laptop.markRead("Bob"), { ids: [], sent: false });
  assert.deepEqual(await laptop.markRead("Club"), { ids: [], sent: false });

  // New messages come after it, each once, and are unread.
  await bob.sync();
  const after = await bob.send("Alice", "after the link");
  await laptop.sync();
  const texts = (await laptop.messages("Bob")).map((m) => m.text);
  assert.deepEqual(texts.slice(-2), ["", "after the link"]);
  assert.equal(texts.length, 6);
  assert.deepEqual((await laptop.markRead("Bob")).ids, [after.id]);
});

it("without the option the new device gets no history", async () => {
  const alice = (await person("Alice", relay.url)).client;
  const bob = (await person("Bob", relay.url)).client;
  await connect(alice, bob);
  await alice.setExpiry("Bob", 86_400);
  await alice.send("Bob", "before the link");
  const laptop = blank();
  const { done, joined } = await link(alice, laptop);
  assert.equal(done.history, undefined);
  assert.equal(joined.history, undefined);
  assert.deepEqual(await laptop.messages("Bob"), []);
  // The chat's disappearing-messages timer comes with it, history or not.
  const timerOf = async (c: ParleyClient) =>
    (await c.conversations()).find((v) => v.name === "Bob")?.expireAfter;
  assert.equal(await timerOf(laptop), 86_400);
  assert.equal(await timerOf(laptop), await timerOf(alice));
});

it("messages a disappearing-messages timer has made due are not sent", async () => {
  let later = 0;
  const alice = (await person("Alice", relay.url, { now: () => Date.now() + later })).client;
  const bob = (await person("Bob", relay.url)).client;
  await connect(alice, bob);
  await alice.setExpiry("Bob", 30);
  const due = await alice.send("Bob", "gone in 30 s");
  later = 31_000;
  // Written after the timer's deadline for the first: it stays.
  await alice.send("Bob", "still here");
  // The phone has not swept yet (a sweep runs before history is read and on every sync).
  assert.ok(await alice.repo.message((await alice.conversations())[0]!.id, due.id));
  const laptop = blank();
  const { done } = await link(alice, laptop, { withHistory: true });
  assert.equal(done.history?.messages, 1);
  assert.deepEqual(
    (await laptop.messages("Bob")).map((m) => m.text),
    ["still here"],
  );
});

it("a malformed history chunk is a LinkError, and the new device stores nothing", async () => {
  // Alice's device sends a well-sealed but malformed first chunk: what the new device checks.
  let tamper: { sendId: string; key: Uint8Array; sends: number } | undefined;
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const url = String(input);
    if (tamper && url.endsWith(`/v1/send/${tamper.sendId}`) && ++tamper.sends === 3) {
      const bad = {
        v: 1,
        step: "history",
        seq: 0,
        messages: [{ id: "x", conversationId: "y", text: 42 }],
        posts: [],
      } as unknown as LinkStep;
      return globalThis.fetch(input, {
        ...init,
        body: pad(await sealLinkStep(crypto, tamper.key, bad)) as Uint8Array<ArrayBuffer>,
      });
    }
    return globalThis.fetch(input, init);
  };
  const alice = (await person("Alice", relay.url, { fetch })).client;
  const bob = (await person("Bob", relay.url)).client;
  await connect(alice, bob);
  await alice.send("Bob", "before the link");
  const laptop = blank();
  const offer = await alice.createDeviceLink();
  const [request, pending] = await Promise.all([
    alice.awaitLinkRequest(offer, 20_000),
    laptop.beginDeviceLink(offer.link, "laptop"),
  ]);
  // The third send to the new device's reply queue: profile, conversations, then history 0.
  tamper = { sendId: request.reply.sendId, key: request.key, sends: 0 };
  const [, failed] = await Promise.allSettled([
    alice.completeLink(request, pending.code, 20_000, { withHistory: true }),
    laptop.finishDeviceLink(pending, 20_000),
  ]);
  assert.equal(failed.status, "rejected");
  const e = (failed as PromiseRejectedResult).reason;
  assert.ok(e instanceof LinkError, String(e));
  assert.match(e.message, /"history" or "history-end" is malformed/);
  await assert.rejects(laptop.profile(), (x: unknown) => x instanceof ParleyError && x.code === "no_profile");
});
