/**
 * Replies, reactions, edits, deletions and mentions (docs/03-content.md): the rules of
 * messages/changes.ts on their own, then end to end between in-process clients and a real relay —
 * including a modified client forging an edit of someone else's message, changes arriving before
 * their message, and the same change twice.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { applyChange } from "../src/client/messages/changes.js";
import { findMentions } from "../src/client/messages/mentions.js";
import type { ParleyClient } from "../src/client/parley-client.js";
import { decodeContent } from "../src/content/index.js";
import { isReactionEmoji, ReactionBody } from "../src/content/reaction.js";
import { utf8 } from "../src/encoding/bytes.js";
import { ParleyError } from "../src/errors.js";
import type { MessageRecord } from "../src/store/records.js";
import { connect, eventsOf, person, relayForThisFile } from "./helpers/people.js";

const ME = "me-key";
const BOB = "bob-key";
const CAROL = "carol-key";
const bobsMessage: MessageRecord = {
  id: "m1",
  conversationId: "c",
  fromMe: false,
  senderIdentity: BOB,
  text: "hello",
  sentAt: 1000,
  receivedAt: 1001,
  status: "received",
  key: "k",
};
const ok = (r: ReturnType<typeof applyChange>): MessageRecord => {
  assert.ok(r && r !== "forged", `expected a change, got ${String(r)}`);
  return r;
};

describe("messages/changes.ts rules", () => {
  it("lets only the author edit or delete; anyone react", () => {
    assert.equal(applyChange(bobsMessage, ME, CAROL, 2000, { kind: "edit", text: "x" }), "forged");
    assert.equal(applyChange(bobsMessage, ME, ME, 2000, { kind: "delete" }), "forged");
    assert.equal(ok(applyChange(bobsMessage, ME, BOB, 2000, { kind: "edit", text: "hi" })).text, "hi");
    const mine = { ...bobsMessage, fromMe: true, senderIdentity: null };
    assert.equal(applyChange(mine, ME, BOB, 2000, { kind: "edit", text: "x" }), "forged");
    assert.ok(ok(applyChange(mine, ME, ME, 2000, { kind: "delete" })).deleted);
    assert.deepEqual(
      ok(applyChange(bobsMessage, ME, CAROL, 2000, { kind: "reaction", emoji: "👍" })).reactions,
      {
        [CAROL]: { emoji: "👍", at: 2000 },
      },
    );
  });

  it("deletes for good: the text, quote, mentions, reactions and file are gone; later edits change nothing", () => {
    const rich: MessageRecord = {
      ...bobsMessage,
      quote: "m0",
      mentions: [{ key: ME, start: 0, end: 2 }],
      reactions: { [CAROL]: { emoji: "👍", at: 1500 } },
    };
    const deleted = ok(applyChange(rich, ME, BOB, 3000, { kind: "delete" }));
    assert.deepEqual(Object.keys(deleted).sort(), [
      "conversationId",
      "deleted",
      "fromMe",
      "id",
      "key",
      "receivedAt",
      "senderIdentity",
      "sentAt",
      "status",
      "text",
    ]);
    assert.equal(deleted.text, "");
    assert.equal(applyChange(deleted, ME, BOB, 4000, { kind: "edit", text: "back" }), undefined);
    assert.equal(applyChange(deleted, ME, CAROL, 4000, { kind: "reaction", emoji: "👍" }), undefined);
  });

  it("ends in the same state whatever order edits and reactions arrive in", () => {
    const e1 = { at: 2000, change: { kind: "edit" as const, text: "first" } };
    const e2 = { at: 3000, change: { kind: "edit" as const, text: "second" } };
    const a = ok(
      applyChange(ok(applyChange(bobsMessage, ME, BOB, e1.at, e1.change)), ME, BOB, e2.at, e2.change),
    );
    const b1 = ok(applyChange(bobsMessage, ME, BOB, e2.at, e2.change));
    assert.equal(applyChange(b1, ME, BOB, e1.at, e1.change), undefined, "an older edit changes nothing");
    assert.equal(a.text, "second");
    assert.equal(b1.text, "second");
    const r1 = ok(applyChange(bobsMessage, ME, CAROL, 2000, { kind: "reaction", emoji: "👍" }));
    const r2 = ok(applyChange(r1, ME, CAROL, 2500, { kind: "reaction", emoji: null }));
    assert.equal(applyChange(r2, ME, CAROL, 2000, { kind: "reaction", emoji: "👍" }), undefined);
    assert.deepEqual(r2.reactions, { [CAROL]: { emoji: null, at: 2500 } });
  });

  it("accepts one emoji as a reaction, nothing else", () => {
    for (const e of ["👍", "❤️", "👩‍💻", "👍🏽", "🇫🇷", "1️⃣", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "😂"]) assert.ok(isReactionEmoji(e), e);
    for (const e of [
      "",
      "a",
      "ok",
      "👍👍",
      "👍\n[10:00] Carol: hi",
      "\u202e👍",
      "\x1b[2J",
      "1",
      "#",
      "👍a",
      "❤️".repeat(20),
    ])
      assert.ok(!isReactionEmoji(e), JSON.stringify(e));
    assert.ok(!ReactionBody.safeParse({ type: "reaction", target: "m", emoji: "\n" }).success);
    const forged = {
      v: 1,
      id: "x",
      sentAt: 1,
      body: { type: "reaction", target: "m", emoji: "👍\r\x1b[1A" },
    };
    assert.throws(() => decodeContent(utf8(JSON.stringify(forged))));
  });

  it("finds @mentions of members, longest name first, not in e-mail addresses", () => {
    const members = [
      { key: "b", name: "Bob" },
      { key: "bs", name: "Bob Smith" },
      { key: "c", name: "Carol" },
    ];
    assert.deepEqual(findMentions("hi @bob smith and @Carol!", members), [
      { key: "bs", start: 3, end: 13 },
      { key: "c", start: 18, end: 24 },
    ]);
    assert.deepEqual(findMentions("@Bob, mail bob@Carol.org or @Bobby or @Dave", members), [
      { key: "b", start: 0, end: 4 },
    ]);
  });
});

/** The parts of a client that a modified client calls directly. */
interface Modified {
  sendBodyUnchecked(to: string, body: unknown, id?: string): Promise<unknown>;
}
const modified = (c: ParleyClient) => c as unknown as Modified;

async function rejects(p: Promise<unknown>, code: string) {
  await assert.rejects(p, (e: unknown) => e instanceof ParleyError && e.code === code);
}

describe("replies, reactions, edits and deletions between clients", () => {
  const relay = relayForThisFile();
  let alice: Awaited<ReturnType<typeof person>>;
  let bob: Awaited<ReturnType<typeof person>>;
  let carol: Awaited<ReturnType<typeof person>>;

  before(async () => {
    alice = await person("Alice", relay.url);
    bob = await person("Bob", relay.url);
    carol = await person("Carol", relay.url);
    await connect(alice.client, bob.client);
    await connect(alice.client, carol.client);
  });

  const last = async (c: ParleyClient, conversation: string) => (await c.messages(conversation)).at(-1)!;

  it("1:1: reply quotes, reactions count, edit and delete show on both sides", async () => {
    const question = await alice.client.send("Bob", "lunch at noon?");
    await bob.client.sync();
    const answer = await bob.client.reply("Alice", question.id.slice(0, 6), "yes, see you");
    assert.equal(answer.quote?.id, question.id);
    assert.equal(answer.quote?.text, "lunch at noon?");
    const events = await alice.client.sync();
    const got = eventsOf(events, "message")[0]!.message;
    assert.equal(got.quote?.text, "lunch at noon?");
    assert.equal(got.quote?.from?.relation, "me");

    await bob.client.react("Alice", question.id, "👍");
    await alice.client.react("Bob", question.id, "👍");
    const updated = eventsOf(await alice.client.sync(), "updated");
    assert.equal(updated[0]?.change, "reaction");
    assert.equal(updated[0]?.by.name, "Bob");
    const q = (await alice.client.messages("Bob")).find((m) => m.id === question.id)!;
    assert.deepEqual(
      q.reactions?.map((r) => [r.emoji, r.count, r.mine]),
      [["👍", 2, true]],
    );
    await bob.client.react("Alice", question.id, "❤️"); // replaces Bob's 👍
    await alice.client.sync();
    const q2 = (await alice.client.messages("Bob")).find((m) => m.id === question.id)!;
    assert.deepEqual(
      q2.reactions?.map((r) => [r.emoji, r.count]),
      [
        ["👍", 1],
        ["❤️", 1],
      ],
    );
    await bob.client.react("Alice", question.id, null);
    await alice.client.sync();
    const q3 = (await alice.client.messages("Bob")).find((m) => m.id === question.id)!;
    assert.deepEqual(
      q3.reactions?.map((r) => [r.emoji, r.count]),
      [["👍", 1]],
    );
    await rejects(bob.client.react("Alice", question.id, "ok"), "bad_reaction");

    const edited = await alice.client.editMessage("Bob", question.id, "lunch at one?");
    assert.equal(edited.text, "lunch at one?");
    assert.ok(edited.edited);
    const atBob = eventsOf(await bob.client.sync(), "updated");
    assert.deepEqual(
      atBob.map((e) => e.change),
      ["reaction", "edited"],
    );
    const seen = atBob[1]!;
    assert.equal(seen.message.text, "lunch at one?");
    // The reply now quotes the edited text: quotes are read from history, never copied.
    assert.equal((await last(bob.client, "Alice")).quote?.text, "lunch at one?");

    await rejects(bob.client.editMessage("Alice", question.id, "mine now"), "not_your_message");
    await rejects(bob.client.deleteMessage("Alice", question.id), "not_your_message");
    await rejects(bob.client.editMessage("Alice", "zzzzzz", "x"), "unknown_message");

    await alice.client.deleteMessage("Bob", question.id);
    const gone = eventsOf(await bob.client.sync(), "updated")[0]!;
    assert.equal(gone.change, "deleted");
    assert.equal(gone.message.text, "");
    assert.ok(gone.message.deleted);
    assert.equal(gone.message.reactions, undefined);
    const reply = await last(bob.client, "Alice");
    assert.equal(reply.quote?.deleted, true);
    assert.equal(reply.quote?.text, "");
    // Really removed from the store, not hidden: no value of Bob's store holds the text.
    for (const [, value] of await bob.store.list("")) {
      const s = Buffer.from(value).toString("utf8");
      assert.ok(!s.includes("lunch at"), "the deleted text is still in the store");
    }
    await rejects(alice.client.editMessage("Bob", question.id, "again"), "message_deleted");
    await rejects(bob.client.reply("Alice", question.id, "?"), "message_deleted");
  });

  it("a group: mentions resolve to members; a forged edit by another member is rejected", async () => {
    await alice.client.createGroup("Hikers");
    await alice.client.addToGroup("Hikers", ["Bob", "Carol"]);
    await bob.client.sync();
    await carol.client.sync();
    await alice.client.sync();
    await bob.client.sync();
    await carol.client.sync();

    const plan = await alice.client.send("Hikers", "@Bob and @carol: Saturday? mail me at x@Bob.org");
    assert.deepEqual(
      plan.mentions?.map((m) => [m.person.name, m.start, m.end]),
      [
        ["Bob", 0, 4],
        ["Carol", 9, 15],
      ],
    );
    const atBob = eventsOf(await bob.client.sync(), "message").find((e) => e.message.id === plan.id)!;
    assert.equal(atBob.message.mentionsMe, true);
    assert.equal(atBob.message.mentions?.length, 2);
    await carol.client.sync();

    // Carol's modified client edits Alice's message: everyone drops it, the text stays.
    await modified(carol.client).sendBodyUnchecked("Hikers", {
      type: "edit",
      target: plan.id,
      text: "cancelled",
    });
    await modified(carol.client).sendBodyUnchecked("Hikers", { type: "delete", target: plan.id });
    const rejected = eventsOf(await bob.client.sync(), "rejected");
    assert.deepEqual(
      rejected.map((r) => [r.reason, "change" in r ? r.change : ""]),
      [
        ["not_author", "edit"],
        ["not_author", "delete"],
      ],
    );
    const atBobAfter = (await bob.client.messages("Hikers")).find((m) => m.id === plan.id)!;
    assert.equal(atBobAfter.text, plan.text);
    assert.equal(atBobAfter.edited, undefined);
    assert.equal(atBobAfter.deleted, undefined);
    const atAlice = eventsOf(await alice.client.sync(), "rejected");
    assert.equal(atAlice.length, 2);

    // A real edit by Alice carries new mentions.
    await alice.client.editMessage("Hikers", plan.id.slice(0, 8), "@Carol only, sorry Bob");
    const edit = eventsOf(await carol.client.sync(), "updated").find((e) => e.message.id === plan.id)!;
    assert.equal(edit.message.text, "@Carol only, sorry Bob");
    assert.equal(edit.message.mentionsMe, true);
    assert.deepEqual(
      edit.message.mentions?.map((m) => m.start),
      [0],
    );
    const atBobEdited = eventsOf(await bob.client.sync(), "updated").find((e) => e.message.id === plan.id)!;
    assert.equal(atBobEdited.message.mentionsMe, false);
  });

  it("changes that arrive before their message wait for it; the same change twice counts once", async () => {
    const futureId = "future-message-0000001";
    // A modified Alice sends the edit, a reaction and then the message they are for.
    await modified(alice.client).sendBodyUnchecked("Bob", {
      type: "edit",
      target: futureId,
      text: "edited early",
    });
    await modified(alice.client).sendBodyUnchecked("Bob", {
      type: "reaction",
      target: futureId,
      emoji: "🎉",
    });
    await modified(alice.client).sendBodyUnchecked("Bob", {
      type: "reaction",
      target: futureId,
      emoji: "🎉",
    });
    const early = await bob.client.sync();
    assert.deepEqual(eventsOf(early, "updated"), [], "nothing to show yet");
    assert.deepEqual(eventsOf(early, "rejected"), []);
    await modified(alice.client).sendBodyUnchecked("Bob", { type: "text", text: "original" }, futureId);
    const arrived = eventsOf(await bob.client.sync(), "message").find((e) => e.message.id === futureId)!;
    assert.equal(arrived.message.text, "edited early");
    assert.ok(arrived.message.edited);
    assert.deepEqual(
      arrived.message.reactions?.map((r) => [r.emoji, r.count]),
      [["🎉", 1]],
    );

    // A delete before its message: the message is stored without its text from the start.
    const doomed = "future-message-0000002";
    await modified(alice.client).sendBodyUnchecked("Bob", { type: "delete", target: doomed });
    await bob.client.sync();
    await modified(alice.client).sendBodyUnchecked("Bob", { type: "text", text: "never seen" }, doomed);
    const deleted = eventsOf(await bob.client.sync(), "message").find((e) => e.message.id === doomed)!;
    assert.equal(deleted.message.text, "");
    assert.ok(deleted.message.deleted);
    for (const [, value] of await bob.store.list("")) {
      assert.ok(!Buffer.from(value).toString("utf8").includes("never seen"));
    }

    // A forged change that waited is dropped when its message arrives; the message is kept.
    const carolsTarget = "future-message-0000003";
    await modified(carol.client).sendBodyUnchecked("Hikers", {
      type: "edit",
      target: carolsTarget,
      text: "forged",
    });
    await bob.client.sync();
    await modified(alice.client).sendBodyUnchecked("Hikers", { type: "text", text: "real" }, carolsTarget);
    const real = eventsOf(await bob.client.sync(), "message").find((e) => e.message.id === carolsTarget)!;
    assert.equal(real.message.text, "real");
    assert.equal(real.message.edited, undefined);
  });

  it("deleting a contact forgets the changes that waited for their messages too", async () => {
    await modified(alice.client).sendBodyUnchecked("Carol", {
      type: "reaction",
      target: "never-arrives-000000001",
      emoji: "👍",
    });
    await carol.client.sync();
    const chat = (await carol.client.findContact("Alice")).conversationId;
    assert.equal((await carol.store.list(`pending/${chat}/`)).length, 1);
    await carol.client.deleteContact("Alice");
    assert.deepEqual(await carol.store.list(`pending/${chat}/`), []);
  });
});
