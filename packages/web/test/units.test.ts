import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { runInNewContext } from "node:vm";
import {
  type ConversationView,
  type MessageView,
  ParleyError,
  type PersonRef,
  RelayError,
} from "@parley/core";
import { matchLanguage } from "@parley/i18n";
import {
  type ConversationSummary,
  newestReceived,
  pendingMessage,
  summaryOf,
  totalUnread,
  withDelivered,
  withIncoming,
  withLines,
  withMessage,
  withOpened,
  withSent,
} from "../src/conversations.js";
import { deliveryLabel, groupDigits, initials, inviteFromLocation } from "../src/format.js";
import {
  describeMembers,
  describeRoles,
  eventNotice,
  failureNotice,
  friendlyError,
  groupEventLines,
  isNoLongerMember,
  joinNames,
  mergeTimeline,
  personName,
} from "../src/groups.js";
import { setLanguage } from "../src/i18n.js";
import { argon2idKdf } from "../src/kdf.js";
import { lineEventOf, lineText } from "../src/lines.js";
import { insertMention, mentionCandidates, mentionQuery, quoteSummary, textParts } from "../src/messages.js";

describe("web helpers", () => {
  it("groups safety-number digits in fives", () => {
    assert.equal(groupDigits("123451234512345"), "12345 12345 12345");
    assert.equal(groupDigits("1".repeat(60)).split(" ").length, 12);
  });

  it("finds an invite link in the page address, and nothing else", () => {
    const id = "A".repeat(22);
    const key = "b".repeat(43);
    assert.equal(
      inviteFromLocation(`http://127.0.0.1:8787/#/invite/${id}/${key}`),
      `http://127.0.0.1:8787/#/invite/${id}/${key}`,
    );
    assert.equal(inviteFromLocation("http://127.0.0.1:8787/"), null);
    assert.equal(inviteFromLocation(`http://127.0.0.1:8787/#/invite/${id}/short`), null);
    assert.equal(inviteFromLocation(`http://127.0.0.1:8787/#/invite/${id}/${key}<script>`), null);
  });

  it("labels delivery states and makes initials", () => {
    assert.equal(deliveryLabel("sending"), "Sending…");
    assert.equal(deliveryLabel("delivered"), "Delivered");
    assert.equal(deliveryLabel("received"), "");
    assert.equal(initials("ada lovelace"), "AL");
    assert.equal(initials("  "), "?");
  });
});

describe("group helpers", () => {
  const key = (c: string) => c.repeat(43);
  const me: PersonRef = { identityKey: key("a"), name: "Ada", relation: "me" };
  const bob: PersonRef = { identityKey: key("b"), name: "Bob", relation: "contact" };
  const carol: PersonRef = { identityKey: key("c"), name: "Carol", relation: "member" };
  const stranger: PersonRef = { identityKey: key("d"), name: null, relation: "member" };

  it("says who was added, who left and who became admin, in plain sentences", () => {
    assert.deepEqual(describeMembers([bob, carol], []), ["Bob and Carol were added"]);
    assert.deepEqual(describeMembers([stranger], []), ["A new member was added"]);
    assert.deepEqual(describeMembers([bob, stranger], []), ["Bob and a new member were added"]);
    assert.deepEqual(describeMembers([], [carol]), ["Carol is no longer in the group"]);
    assert.deepEqual(describeRoles([bob], []), ["Bob is now an admin"]);
    assert.deepEqual(describeRoles([], [me]), ["You are no longer an admin"]);
    assert.deepEqual(describeMembers([], []), []);
    // A name learnt after joining is used when they leave (the engine names them in the event).
    assert.deepEqual(describeMembers([], [{ ...stranger, name: "Dana" }]), [
      "Dana is no longer in the group",
    ]);
    assert.equal(personName(stranger), "Member dddddd");
    assert.equal(joinNames(["A", "B", "C"]), "A, B, and C"); // Intl.ListFormat, as English CLDR writes it
  });

  it("turns engine errors into sentences a person can act on, from their codes", () => {
    assert.equal(
      friendlyError(new ParleyError("no_key_package", { contact: "Fred" })),
      "Fred can’t be added yet: their Parley has not been online since you connected. Ask Fred to open Parley once, then try again.",
    );
    assert.equal(
      friendlyError(new ParleyError("last_admin", { leaving: true })),
      "You are the only admin. Make someone else an admin before you leave.",
    );
    assert.equal(
      friendlyError(new ParleyError("not_admin", { group: "X" })),
      "Only the group’s admins can do that.",
    );
    assert.equal(
      friendlyError(new RelayError("network", "fetch failed")),
      "Parley could not reach the relay. Check your connection and try again.",
    );
    assert.equal(friendlyError(new Error("something odd")), "Something odd");
    assert.equal(
      friendlyError(new ParleyError("bad_name", { kind: "group name", issue: "length", max: 100 })),
      "A group name has 1 to 100 characters.",
    );
    assert.equal(
      friendlyError(
        new ParleyError("bad_name", { kind: "group name", issue: "unsafe_character", codePoint: "U+000A" }),
      ),
      "A group name must be one line, without control or invisible formatting characters.",
    );
  });

  it("says a receipt that could not be sent as what it is, not as a dropped message", () => {
    const failed = eventNotice({
      type: "warning",
      conversationId: "c",
      code: "followup_failed",
      followup: "receipt",
      cause: "unknown_queue",
    });
    assert.ok("console" in failed, "no notice: nothing was lost");
    assert.doesNotMatch(JSON.stringify(failed), /could not verify/);
    const forged = eventNotice({ type: "rejected", reason: "mls", detail: "bad signature" });
    assert.deepEqual(forged, { notice: "Parley dropped a message it could not verify." });
    const local = eventNotice({ type: "failure", source: "local", cause: "disk full" });
    assert.ok("console" in local);
  });

  it("puts system lines between messages by time", () => {
    const items = mergeTimeline([{ t: 10 }, { t: 30 }], (m) => m.t, [
      { id: "x", at: 20, event: { code: "text", text: "Bob was added" } },
      { id: "y", at: 40, event: { code: "text", text: "Bob is now an admin" } },
      { id: "w", at: 5, event: { code: "created", pq: false } },
    ]);
    assert.deepEqual(
      items.map((i) => (i.kind === "message" ? i.message.t : lineText(i.line.event))),
      ["You created the group", 10, "Bob was added", 30, "Bob is now an admin"],
    );
  });
});

describe("conversation list and chat helpers (the hooks' computations)", () => {
  const bob: PersonRef = { identityKey: "b".repeat(43), name: "Bob", relation: "contact" };
  const me: PersonRef = { identityKey: "a".repeat(43), name: "Ada", relation: "me" };
  const at = (minute: number) => new Date(Date.UTC(2025, 0, 1, 12, minute)).toISOString();
  const message = (id: string, minute: number, over: Partial<MessageView> = {}): MessageView => ({
    conversation: "Bob",
    conversationId: "direct-bob",
    kind: "direct",
    id,
    from: bob,
    fromMe: false,
    text: `text ${id}`,
    sentAt: at(minute),
    receivedAt: at(minute),
    status: "received",
    ...over,
  });
  const direct: ConversationView = {
    id: "direct-bob",
    kind: "direct",
    name: "Bob",
    canSend: true,
    contactId: "k",
    muted: false,
    archived: false,
    readReceipts: true,
    typingIndicators: true,
  };
  const group: ConversationView = {
    id: "g",
    kind: "group",
    name: "Club",
    canSend: true,
    admin: true,
    status: "active",
    muted: false,
    archived: false,
    readReceipts: false,
    typingIndicators: false,
  };
  const row = (id: string, lastAt: string | null, unread = 0): ConversationSummary => ({
    id,
    kind: "direct",
    contactId: null,
    title: id,
    photo: null,
    verified: false,
    keyChanged: false,
    mustAccept: false,
    blocked: false,
    canSend: true,
    status: "active",
    admin: false,
    muted: false,
    archived: false,
    readReceipts: true,
    typingIndicators: true,
    preview: null,
    lastAt,
    unread,
  });

  it("summarises a conversation: preview, time, and what arrived after it was last read", () => {
    const recent = [message("1", 1), message("2", 2), message("3", 3, { fromMe: true, from: me })];
    const s = summaryOf({
      view: direct,
      contact: undefined,
      recent,
      lastRead: Date.parse(at(1)),
      newestLine: undefined,
      open: false,
    });
    assert.equal(s.preview, "You: text 3");
    assert.equal(s.lastAt, at(3));
    assert.equal(s.unread, 1, "only theirs, only after the last read");
    assert.equal(s.status, "active");
    const open = summaryOf({
      view: direct,
      contact: undefined,
      recent,
      lastRead: 0,
      newestLine: undefined,
      open: true,
    });
    assert.equal(open.unread, 0, "the open conversation has nothing unread");
  });

  it("shows a group's newest system line as its preview when it is newer than any message", () => {
    const alice: PersonRef = { identityKey: "c".repeat(43), name: "Alice", relation: "member" };
    const line = { id: "l", at: Date.parse(at(5)), event: { code: "addedYou", by: alice } as const };
    const recent = [message("1", 1, { kind: "group", conversationId: "g" })];
    const s = summaryOf({
      view: group,
      contact: undefined,
      recent,
      lastRead: 0,
      newestLine: line,
      open: false,
    });
    assert.equal(s.preview, "Alice added you to the group");
    assert.equal(s.lastAt, at(5));
    assert.equal(s.admin, true);
    const older = { ...line, at: Date.parse(at(0)) };
    const t = summaryOf({
      view: group,
      contact: undefined,
      recent,
      lastRead: 0,
      newestLine: older,
      open: false,
    });
    assert.equal(t.preview, "Bob: text 1", "a group message names its sender");
  });

  it("moves a conversation up when a message arrives, counting it unread unless open or ours", () => {
    const list = [row("other", at(4)), row("direct-bob", at(1), 2)];
    const after = withIncoming(list, message("9", 6), false);
    assert.deepEqual(
      after.map((c) => [c.id, c.unread]),
      [
        ["direct-bob", 3],
        ["other", 0],
      ],
    );
    assert.equal(after[0]!.preview, "text 9");
    // A file without a caption shows its name, not an empty row.
    const file = { ...message("10", 7), text: "", file: { name: "invoice.pdf" } } as unknown as Parameters<
      typeof withIncoming
    >[1];
    assert.equal(withIncoming(list, file, false)[0]!.preview, "File: invoice.pdf");
    assert.equal(withIncoming(list, message("9", 6), true).find((c) => c.id === "direct-bob")!.unread, 2);
    assert.equal(totalUnread(after), 3);
    assert.equal(withOpened(after, "direct-bob")[0]!.unread, 0);
    const sent = withSent(list, "direct-bob", "hi", at(7));
    assert.deepEqual([sent[0]!.id, sent[0]!.preview], ["direct-bob", "You: hi"]);
  });

  it("keeps the open chat free of duplicates and marks receipts", () => {
    const list = [message("1", 1), message("2", 2, { fromMe: true, from: me, status: "sent" })];
    assert.equal(withMessage(list, message("1", 1)), list, "a message already shown is not added again");
    assert.equal(withMessage(list, message("3", 3)).length, 3);
    assert.deepEqual(
      withDelivered(list, ["2"]).map((m) => m.status),
      ["received", "delivered"],
    );
    const a = { code: "text", text: "A" } as const;
    const lines = [{ id: "a", at: 1, event: a }];
    assert.equal(withLines(lines, [{ id: "a", at: 1, event: a }]), lines);
    assert.equal(withLines(lines, [{ id: "b", at: 2, event: { code: "youLeft" } }]).length, 2);
    assert.equal(newestReceived(list), Date.parse(at(1)), "our own messages do not count");
    assert.equal(newestReceived([]), 0);
    const pending = pendingMessage(
      { id: "g", title: "Club", kind: "group" },
      "hello",
      "Ada",
      new Date(at(8)),
      "p1",
    );
    assert.deepEqual(
      [pending.status, pending.fromMe, pending.sentAt, pending.from.name],
      ["sending", true, at(8), "Ada"],
    );
  });

  it("words group events as chat lines, and failures as notices from their codes", () => {
    const event = { type: "group", conversationId: "g", name: "Club" } as const;
    const words = (e: Parameters<typeof groupEventLines>[0]) => groupEventLines(e).map(lineText);
    assert.deepEqual(words({ ...event, change: "joined", by: bob }), ["Bob added you to the group"]);
    assert.deepEqual(words({ ...event, change: "members", added: [bob], removed: [], left: [] }), [
      "Bob was added",
    ]);
    assert.deepEqual(words({ ...event, change: "members", added: [], removed: [], left: [bob] }), [
      "Bob left the group",
    ]);
    assert.deepEqual(words({ ...event, change: "renamed", from: "Old" }), ["The group is now called “Club”"]);
    assert.deepEqual(words({ ...event, change: "removed" }), ["An admin removed you from the group"]);
    assert.deepEqual(words({ ...event, change: "moved" }), []);
    assert.equal(
      failureNotice("send", new RelayError("network", "fetch failed")),
      "Your message was not sent. Parley could not reach the relay. Check your connection and try again.",
    );
    assert.equal(
      failureNotice("mark-read", new Error("quota exceeded")),
      "Could not save which messages you have read: they may show as unread again. Quota exceeded",
    );
    assert.ok(isNoLongerMember(new ParleyError("not_member", { group: "Club" })));
    assert.ok(!isNoLongerMember(new ParleyError("not_admin", { group: "Club" })));
    assert.ok(!isNoLongerMember(new Error("not_member")), "by code, never by message text");
  });
});

describe("chat lines: kept as events, worded when shown", () => {
  const bob: PersonRef = { identityKey: "b".repeat(43), name: "Bob", relation: "contact" };
  const me: PersonRef = { identityKey: "a".repeat(43), name: "Ada", relation: "me" };
  const stranger: PersonRef = { identityKey: "3f9a2c".padEnd(43, "x"), name: null, relation: "member" };

  it("one stored line reads in the language of the moment, not the one it was written in", async () => {
    const added = { code: "addedYou", by: bob } as const;
    const timer = { code: "expiry", by: me, seconds: 3600 } as const;
    try {
      assert.equal(lineText(added), "Bob added you to the group");
      assert.equal(lineText(timer), "You set messages to disappear after 1 hour");
      await setLanguage("zh-Hans");
      assert.equal(lineText(added), "Bob 将你加入了群组");
      assert.equal(lineText(timer), "你将消息设为 1 小时后消失");
      assert.equal(lineText({ code: "members", added: [stranger], removed: [] }), "1 位新成员 已加入群组");
      await setLanguage("zh-Hant");
      assert.equal(lineText(added), "Bob 將你加入了群組");
      assert.equal(
        lineText({ code: "missing", count: 2, who: stranger }),
        "成員 3f9a2c 的 2 則訊息未送達（可能被中繼伺服器丟棄）",
      );
    } finally {
      await setLanguage("en");
    }
  });

  it("an engine event becomes one line per sentence", () => {
    const event = { type: "group", conversationId: "g", name: "Club" } as const;
    const both = groupEventLines({
      ...event,
      change: "members",
      added: [bob],
      removed: [stranger],
      left: [],
    });
    assert.deepEqual(both.map(lineText), ["Bob was added", "A member is no longer in the group"]);
    const roles = groupEventLines({ ...event, change: "roles", promoted: [bob, me], demoted: [] });
    assert.deepEqual(roles.map(lineText), ["Bob is now an admin", "You are now an admin"]);
    // Only what a line needs of a person is kept (a member view carries its role and more).
    const member = { ...bob, role: "admin", isMe: false } as PersonRef;
    assert.deepEqual(groupEventLines({ ...event, change: "joined", by: member }), [
      { code: "addedYou", by: bob },
    ]);
  });

  it("reads lines stored as words before 0.2 as they were written, and skips what it does not know", () => {
    assert.deepEqual(lineEventOf({ text: "Alice added you to the group" }), {
      code: "text",
      text: "Alice added you to the group",
    });
    assert.equal(
      lineText({ code: "text", text: "Alice added you to the group" }),
      "Alice added you to the group",
    );
    assert.deepEqual(lineEventOf({ event: { code: "renamed", name: "读书会" } }), {
      code: "renamed",
      name: "读书会",
    });
    assert.equal(lineEventOf({ event: { code: "from-a-newer-version" } }), undefined);
    assert.equal(lineEventOf({ event: { code: "text" }, text: "no text in the event" }), undefined);
    assert.equal(lineEventOf(null), undefined);
    assert.equal(lineEventOf("Alice added you"), undefined);
  });
});

describe("public/lang.js: <html lang> before the app loads", () => {
  const script = readFileSync(fileURLToPath(new URL("../../../public/lang.js", import.meta.url)), "utf8");
  /** The lang lang.js sets for a browser with these languages and this Settings choice. */
  function langFor(languages: string[] | undefined, chosen: string | null, language?: string): string {
    const html = { lang: "en" };
    const window = {
      localStorage: {
        getItem: (key: string) => {
          if (chosen === "blocked") throw new Error("SecurityError");
          return key === "parley.language" ? chosen : null;
        },
      },
      navigator: { languages, language },
    };
    runInNewContext(script, { window, document: { documentElement: html } });
    return html.lang;
  }

  it("makes the choice the app makes (matchLanguage)", () => {
    const lists = [
      ["zh-CN", "en"],
      ["zh-TW"],
      ["zh-HK"],
      ["zh-MO"],
      ["zh-Hant-HK"],
      ["zh-Hans-HK"],
      ["zh"],
      ["zh-SG"],
      ["fr-FR", "zh-TW"],
      ["en-GB"],
      ["de"],
      ["zh_TW"],
      ["zh-Hant"],
      ["EN"],
      [],
    ];
    for (const list of lists) assert.equal(langFor(list, null), matchLanguage(list), list.join(","));
    assert.equal(langFor(undefined, null, "zh-TW"), "zh-Hant", "navigator.language alone");
  });

  it("a language chosen in Settings wins; a blocked or unknown one falls back to the browser's", () => {
    assert.equal(langFor(["en-US"], "zh-Hant"), "zh-Hant");
    assert.equal(langFor(["zh-CN"], "en"), "en");
    assert.equal(langFor(["zh-CN"], "klingon"), "zh-Hans");
    assert.equal(langFor(["zh-TW"], "blocked"), "zh-Hant");
  });
});

describe("argon2id KDF (hash-wasm)", () => {
  it("derives a 32-byte key that depends on passphrase and salt, and normalises Unicode", async () => {
    const params = { memoryKiB: 1024, iterations: 1, parallelism: 1 };
    const salt = new Uint8Array(16).fill(7);
    const a = await argon2idKdf.derive("passphrase", salt, params);
    assert.equal(a.length, 32);
    assert.deepEqual(await argon2idKdf.derive("passphrase", salt, params), a);
    assert.notDeepEqual(await argon2idKdf.derive("passphrase!", salt, params), a);
    assert.notDeepEqual(await argon2idKdf.derive("passphrase", new Uint8Array(16).fill(8), params), a);
    // "é" precomposed and decomposed are the same passphrase.
    assert.deepEqual(
      await argon2idKdf.derive("caf\u00e9", salt, params),
      await argon2idKdf.derive("cafe\u0301", salt, params),
    );
  });

  it("reproduces the Argon2 reference implementation's test vector", async () => {
    // phc-winner-argon2 src/test.c: Argon2id v=19, m=256 KiB, t=2, p=1, "password", "somesalt".
    const key = await argon2idKdf.derive("password", new TextEncoder().encode("somesalt"), {
      memoryKiB: 256,
      iterations: 2,
      parallelism: 1,
    });
    assert.equal(
      Buffer.from(key).toString("hex"),
      "9dfeb910e80bad0311fee20f9c0e2b12c17987b4cac90c2ef54d5b3021c68bfe",
    );
  });

  it("splits a message's text at its mentions, and says what a quote is", () => {
    const me: PersonRef = { identityKey: "m", name: "Me", relation: "me" };
    const bob: PersonRef = { identityKey: "b", name: "Bob", relation: "contact" };
    assert.deepEqual(
      textParts({
        text: "@Bob and @Me, hi",
        mentions: [
          { person: bob, start: 0, end: 4 },
          { person: me, start: 9, end: 12 },
        ],
      }),
      [
        { text: "@Bob", mention: { me: false } },
        { text: " and " },
        { text: "@Me", mention: { me: true } },
        { text: ", hi" },
      ],
    );
    assert.deepEqual(textParts({ text: "plain" }), [{ text: "plain" }]);
    const quote = { id: "q", from: bob, text: "lunch?", fileName: null, missing: false, deleted: false };
    assert.deepEqual(quoteSummary(quote), { who: "Bob", text: "lunch?" });
    assert.deepEqual(quoteSummary({ ...quote, deleted: true, text: "" }), {
      who: "Bob",
      text: "Deleted message",
    });
    assert.equal(
      quoteSummary({ ...quote, missing: true, from: null }).text,
      "Message not available on this device",
    );
  });

  it("finds the @… being typed and the members it can mean", () => {
    assert.deepEqual(mentionQuery("hi @Bo", 6), { start: 3, query: "Bo" });
    assert.equal(mentionQuery("mail me@example", 15), null, "an address is no mention");
    assert.equal(mentionQuery("@Bob\nnext", 9), null);
    const members = [
      { identityKey: "m", name: "Me", relation: "me", role: "admin", isMe: true, safety: "me", devices: 1 },
      {
        identityKey: "b",
        name: "Bob",
        relation: "contact",
        role: "member",
        isMe: false,
        safety: "verified",
        devices: 1,
      },
      {
        identityKey: "c",
        name: "Carol",
        relation: "member",
        role: "member",
        isMe: false,
        safety: "member",
        devices: 1,
      },
    ] as const;
    assert.deepEqual(
      mentionCandidates([...members], "bo").map((m) => m.name),
      ["Bob"],
    );
    assert.deepEqual(insertMention("hi @Bo!", 3, 6, "Bob"), { draft: "hi @Bob !", caret: 8 });
  });
});
