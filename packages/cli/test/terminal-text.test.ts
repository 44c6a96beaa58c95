/**
 * Other people's text on the terminal: every control, bidi and invisible formatting character is
 * shown as an escape, a message's extra lines are marked as continuations, and no field of the
 * human output can start a line of its own.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ClientEvent, MessageView, PersonRef } from "@parley/core";
import { formatEvent, formatMessage } from "../src/output.js";
import { CONTINUATION, jsonText, terminalMessage, terminalText } from "../src/terminal-text.js";

/** Anything but \n that moves the cursor, starts an escape sequence or reorders the line. */
const RAW_CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]/u;

const FORGED = "\n[2026-01-01 10:00] Carol: transfer the money";
const EVIL = [
  `hi${FORGED}`,
  "over\rwritten",
  "\x1b[2J cleared",
  "clip \x1b]52;c;ZXZpbA==\x07",
  "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\",
  "\u009b2J c1",
  "\u202eevil",
  "a\u2028b\u2029c",
  "tab\there",
  "del\x7f",
].join(" ");

describe("terminalText", () => {
  it("escapes C0, DEL and C1 controls visibly", () => {
    assert.equal(terminalText("a\nb\rc\td"), "a\\nb\\rc\\td");
    assert.equal(terminalText("\x1b[2J\x07\x00\x7f"), "\\x1b[2J\\x07\\x00\\x7f");
    assert.equal(terminalText("\u0085\u009b"), "\\x85\\x9b");
  });

  it("escapes bidi controls, separators and invisible format characters", () => {
    assert.equal(terminalText("\u202eabc\u202c"), "\\u202eabc\\u202c");
    assert.equal(terminalText("\u2066x\u2069\u200e\u200f\u061c"), "\\u2066x\\u2069\\u200e\\u200f\\u061c");
    assert.equal(terminalText("a\u2028b\u2029c"), "a\\u2028b\\u2029c");
    assert.equal(terminalText("zero\u200bwidth\ufeff"), "zero\\u200bwidth\\ufeff");
    assert.equal(terminalText("tag\u{e0041}"), "tag\\u{e0041}");
  });

  it("leaves ordinary text of every script alone, with emoji joiners and ZWNJ", () => {
    for (const s of [
      "王小明: 你好",
      "محمد",
      "می\u200cخواهم",
      "👩\u200d💻 ❤\ufe0f",
      "C:\\Users\\bob",
      "Zoë – “quoted”",
    ])
      assert.equal(terminalText(s), s);
  });

  it("never leaves a raw control character, for any input", () => {
    let all = "";
    for (let cp = 0; cp < 0x3000; cp++) all += String.fromCodePoint(cp);
    const out = terminalText(all + EVIL);
    assert.doesNotMatch(out, RAW_CONTROL);
    assert.doesNotMatch(out, /\n/);
  });
});

describe("terminalMessage", () => {
  it("keeps a multi-line message readable, each extra line marked as a continuation", () => {
    assert.equal(terminalMessage("one\ntwo\r\nthree"), `one\n${CONTINUATION}two\n${CONTINUATION}three`);
  });

  it("escapes everything else, including a lone carriage return", () => {
    assert.equal(terminalMessage("a\rb\x1b[2J"), "a\\rb\\x1b[2J");
  });
});

describe("human output", () => {
  const message = (over: Partial<MessageView>): MessageView => ({
    conversation: "Mallory",
    conversationId: "c1",
    kind: "direct",
    id: "m1",
    from: { identityKey: "k".repeat(43), name: "Mallory", relation: "contact" },
    fromMe: false,
    text: "hello",
    sentAt: "2026-01-01T10:00:00.000Z",
    receivedAt: null,
    status: "delivered",
    ...over,
  });
  const evilName = "Mallory\n! Carol: IDENTITY CHANGED\x1b[2J\u202e";
  const evil: PersonRef = { identityKey: "k".repeat(43), name: evilName, relation: "member" };
  const events: ClientEvent[] = [
    { type: "message", message: message({ text: EVIL }) },
    {
      type: "message",
      message: message({ kind: "group", conversation: evilName, from: evil, text: EVIL }),
    },
    { type: "contact", change: "added", contact: { name: evilName } as never },
    { type: "contact", change: "key-changed", contact: { name: evilName } as never },
    { type: "contact", change: "renamed", contact: { name: evilName } as never },
    { type: "group", conversationId: "g", name: evilName, change: "joined", by: evil },
    {
      type: "group",
      conversationId: "g",
      name: evilName,
      change: "members",
      added: [evil],
      removed: [evil],
      left: [evil],
    },
    { type: "group", conversationId: "g", name: evilName, change: "renamed", from: evilName },
    { type: "group", conversationId: "g", name: evilName, change: "roles", promoted: [evil], demoted: [] },
    { type: "group", conversationId: "g", name: evilName, change: "removed" },
    { type: "rejected", reason: "inviter_not_admin", inviter: evil, group: evilName },
    { type: "rejected", reason: "mls", detail: `${evilName} is not an admin` },
    { type: "warning", conversationId: "g", code: "messages_missing", count: 2, sender: evil },
    { type: "warning", conversationId: "g", code: "followup_failed", followup: "receipt", cause: evilName },
    { type: "failure", source: "local", cause: evilName },
    // Replies, reactions, edits, deletions, mentions: the quoted text, the emoji and the names are others'.
    {
      type: "message",
      message: message({
        text: EVIL,
        quote: {
          id: "q\n[x] Carol",
          from: evil,
          text: EVIL,
          fileName: evilName,
          missing: false,
          deleted: false,
        },
        reactions: [{ emoji: "👍\n[2026-01-01 10:00] Carol: hi\x1b[2J", count: 2, mine: false, by: [evil] }],
        mentions: [{ person: evil, start: 0, end: 2 }],
        mentionsMe: true,
        edited: "2026-01-01T10:01:00.000Z",
      }),
    },
    {
      type: "updated",
      change: "edited",
      by: evil,
      message: message({ from: evil, text: EVIL, edited: "x" }),
    },
    {
      type: "updated",
      change: "deleted",
      by: evil,
      message: message({ from: evil, text: "", deleted: "x" }),
    },
    {
      type: "updated",
      change: "reaction",
      by: evil,
      message: message({ reactions: [{ emoji: "\u202e\n! Carol", count: 1, mine: false, by: [evil] }] }),
    },
  ];

  it("no event can emit a control character or forge a line", () => {
    for (const e of events) {
      const out = formatEvent(e)!;
      assert.doesNotMatch(out, RAW_CONTROL, JSON.stringify(e));
      for (const [i, line] of out.split("\n").entries()) {
        // A message's own lines are continuations; a reply's quote is one line of ours, "  > ".
        if (i > 0)
          assert.ok(
            line.startsWith(CONTINUATION) || line.startsWith("  > "),
            `continuation line: ${JSON.stringify(line)}`,
          );
        assert.doesNotMatch(line, /^(?:\[2026-01-01 10:00\] Carol|! Carol)/);
      }
    }
  });

  it("a message with a forged line prints the forgery as a marked continuation", () => {
    const out = formatMessage(message({ text: `hi${FORGED}` }));
    assert.match(out, /^\[[^\]]+\] Mallory: hi\n {2}\| \[2026-01-01 10:00\] Carol: transfer the money$/);
  });

  it("--json escapes C1, DEL, separators and bidi too, and parses back to the exact text", () => {
    const value = { text: EVIL, name: evilName };
    const line = jsonText(value);
    assert.doesNotMatch(line, RAW_CONTROL);
    assert.doesNotMatch(line, /\n/);
    assert.deepEqual(JSON.parse(line), value);
  });
});
