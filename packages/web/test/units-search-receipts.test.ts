/** Pure helpers of the search results, read receipts and typing indicators (no browser). */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { MessageView, PersonRef } from "@parley/core";
import { withRead } from "../src/conversations.js";
import { deliveryLabel, deliveryTicks } from "../src/format.js";
import { TYPING_SHOWN_MS, typingNames, withoutExpired, withTyping } from "../src/hooks/useTyping.js";
import { snippet } from "../src/search.js";

const bob: PersonRef = { identityKey: "bob", name: "Bob", relation: "contact" };
const carol: PersonRef = { identityKey: "carol", name: null, relation: "member" };

describe("search result snippets", () => {
  it("marks every match, whatever its case, around the first one", () => {
    assert.deepEqual(snippet("Harbour café, the harbour at noon", "HARBOUR"), [
      { text: "Harbour", match: true },
      { text: " café, the ", match: false },
      { text: "harbour", match: true },
      { text: " at noon", match: false },
    ]);
  });
  it("cuts a long text around the match, with an ellipsis on each cut side", () => {
    const text = `${"a".repeat(100)} needle ${"b".repeat(100)}`;
    const parts = snippet(text, "needle");
    assert.equal(parts[0]?.text, "…");
    assert.equal(parts.at(-1)?.text, "…");
    assert.deepEqual(
      parts.filter((p) => p.match).map((p) => p.text),
      ["needle"],
    );
    assert.ok(parts.map((p) => p.text).join("").length < 100);
  });
  it("shows the text unmarked where lower-casing changes its length, or nothing matches", () => {
    assert.deepEqual(snippet("İstanbul trip", "trip"), [{ text: "İstanbul trip", match: false }]);
    assert.deepEqual(snippet("明天在港口咖啡馆见面", "咖啡"), [
      { text: "明天在港口", match: false },
      { text: "咖啡", match: true },
      { text: "馆见面", match: false },
    ]);
  });
});

describe("read receipts in the open chat", () => {
  const mine = (id: string, status: MessageView["status"]) => ({ id, fromMe: true, status }) as MessageView;
  it("adds the reader once, and makes a sent message delivered", () => {
    const list = [mine("a", "sent"), mine("b", "delivered"), mine("c", "sent")];
    const once = withRead(list, ["a", "b"], bob);
    const twice = withRead(once, ["a"], bob);
    assert.deepEqual(
      twice.map((m) => [m.id, m.status, m.readBy?.map((p) => p.name)]),
      [
        ["a", "delivered", ["Bob"]],
        ["b", "delivered", ["Bob"]],
        ["c", "sent", undefined],
      ],
    );
  });
  it("shows one tick when sent, two when delivered or read", () => {
    assert.deepEqual(
      (["sending", "sent", "delivered", "read"] as const).map((s) => [deliveryTicks(s), deliveryLabel(s)]),
      [
        ["", "Sending…"],
        ["✓", "Sent"],
        ["✓✓", "Delivered"],
        ["✓✓", "Read"],
      ],
    );
  });
});

describe("typing indicators", () => {
  it("shows who types, renews, ends on `false`, and expires", () => {
    let all = withTyping([], "c1", bob, true, 1000);
    all = withTyping(all, "c1", carol, true, 2000);
    all = withTyping(all, "c2", bob, true, 2000);
    all = withTyping(all, "c1", bob, true, 3000); // renewed, not doubled
    assert.deepEqual(typingNames(all, "c1"), ["Member carol", "Bob"]);
    assert.deepEqual(typingNames(withTyping(all, "c1", carol, false), "c1"), ["Bob"]);
    assert.equal(withoutExpired(all, 1500), all, "nothing expired: the same list");
    const later = withoutExpired(all, 2000 + TYPING_SHOWN_MS);
    assert.deepEqual(typingNames(later, "c1"), ["Bob"]);
    assert.deepEqual(typingNames(later, "c2"), []);
  });
});
