/**
 * Limits count the characters a person sees (grapheme clusters), on send and on receive: a Chinese
 * message or an emoji name gets as many characters as an English one, and what a sender lets
 * through, no receiver drops. Oversized text (marks piled on one character) is still refused.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ParleyClient } from "../src/client/parley-client.js";
import {
  ContentError,
  DisplayName,
  decodeContent,
  encodeContent,
  FileName,
  MAX_COMMENT_LENGTH,
  MAX_NAME_LENGTH,
  MAX_TEXT_LENGTH,
} from "../src/content/index.js";
import { nodeCryptoProvider } from "../src/crypto/node-provider.js";
import { ParleyError } from "../src/errors.js";
import { GroupName, MAX_GROUP_NAME_LENGTH } from "../src/messaging/group-metadata.js";
import { lengthIssue, UNITS_PER_CHARACTER, visibleLength } from "../src/messaging/text-length.js";
import { Rfc9420Engine } from "../src/mls/rfc9420-engine/index.js";
import { MemoryKeyValueStore } from "../src/storage/memory-store.js";

const THUMB = "👍🏽"; // 4 UTF-16 code units, one character
const CODER = "👩‍💻"; // 5 code units (woman, ZWJ, laptop), one character
const HAN = "中"; // 1 code unit

const content = (body: unknown) =>
  encodeContent({ v: 1, id: "m1", sentAt: 1_700_000_000_000, body } as never);
const decodes = (body: unknown) => {
  try {
    decodeContent(content(body));
    return true;
  } catch (e) {
    assert.ok(e instanceof ContentError, String(e));
    return false;
  }
};

describe("visible length", () => {
  it("counts what a person sees, not code units or bytes", () => {
    assert.equal(visibleLength("中文"), 2);
    assert.equal(visibleLength(THUMB), 1);
    assert.equal(visibleLength("👨‍👩‍👧"), 1);
    assert.equal(visibleLength("e\u0301"), 1); // e + combining acute
    assert.equal(visibleLength("你好👋🏻!"), 4);
    assert.equal(visibleLength(""), 0);
  });

  it("agrees with Intl.Segmenter (UAX #29) on Chinese, Latin, Hangul, Thai and emoji", () => {
    const segmenter = new Intl.Segmenter("en", { granularity: "grapheme" });
    const samples = [
      "你好，世界！週末見。",
      "Zoe\u0308 café e\u0301 a\u0301\u0302b",
      "한국어",
      "ก่อน",
      "🇨🇳🇹🇼 🇨",
      "1️⃣ #️⃣ ❤️ 😶‍🌫️",
      "🏴󠁧󠁢󠁥󠁮󠁧󠁿",
      "👩🏽‍💻 🧑🏻‍🤝‍🧑🏿 👨‍👩‍👧",
      "line\r\nnext\n",
      "x\u200D \u200Dx",
    ];
    for (const s of samples)
      assert.equal(visibleLength(s), [...segmenter.segment(s)].length, JSON.stringify(s));
  });

  it("counts a message of the largest size in linear time (a stranger's message cannot stall a receiver)", () => {
    const started = performance.now();
    assert.equal(visibleLength(CODER.repeat(MAX_TEXT_LENGTH)), MAX_TEXT_LENGTH);
    assert.equal(visibleLength(THUMB.repeat(MAX_TEXT_LENGTH)), MAX_TEXT_LENGTH);
    // Intl.Segmenter takes minutes for this on Node 20; the expression takes well under a second.
    assert.ok(performance.now() - started < 5000, `${performance.now() - started} ms`);
  });

  it("a limit is in characters; past the code-unit ceiling it is 'size'", () => {
    assert.equal(lengthIssue(THUMB.repeat(10), 10), undefined);
    assert.deepEqual(lengthIssue(THUMB.repeat(11), 10), { reason: "characters", max: 10, length: 11 });
    assert.deepEqual(lengthIssue(HAN.repeat(11), 10), { reason: "characters", max: 10, length: 11 });
    // One letter with 200 combining marks: one character, far over 16 code units per character.
    const zalgo = `a${"\u0301".repeat(200)}`;
    assert.deepEqual(lengthIssue(zalgo, 10), { reason: "size", max: 10, length: 1 });
    assert.equal(lengthIssue(`a${"\u0301".repeat(10 * UNITS_PER_CHARACTER - 1)}`, 10), undefined);
  });
});

describe("limits on receive", () => {
  it("a text message of MAX_TEXT_LENGTH emoji decodes (4 code units each); one more does not", () => {
    assert.ok(decodes({ type: "text", text: THUMB.repeat(MAX_TEXT_LENGTH) }));
    assert.equal(decodes({ type: "text", text: THUMB.repeat(MAX_TEXT_LENGTH + 1) }), false);
    assert.ok(decodes({ type: "text", text: HAN.repeat(MAX_TEXT_LENGTH) }));
    assert.equal(decodes({ type: "text", text: HAN.repeat(MAX_TEXT_LENGTH + 1) }), false);
  });

  it("an edit and a comment follow the same rule", () => {
    const target = "AAAAAAAAAAAAAAAAAAAAAA";
    assert.ok(decodes({ type: "edit", target, text: CODER.repeat(MAX_TEXT_LENGTH) }));
    assert.equal(decodes({ type: "edit", target, text: CODER.repeat(MAX_TEXT_LENGTH + 1) }), false);
    const post = "p".repeat(16);
    assert.ok(decodes({ type: "post-comment", post, text: THUMB.repeat(MAX_COMMENT_LENGTH) }));
    assert.equal(decodes({ type: "post-comment", post, text: THUMB.repeat(MAX_COMMENT_LENGTH + 1) }), false);
  });

  it("an oversized text of few characters is malformed", () => {
    const zalgo = `a${"\u0301".repeat(MAX_COMMENT_LENGTH * UNITS_PER_CHARACTER)}`;
    assert.equal(decodes({ type: "post-comment", post: "p".repeat(16), text: zalgo }), false);
  });

  it("display and group names count characters; file names count code units", () => {
    assert.equal(DisplayName.safeParse(CODER.repeat(MAX_NAME_LENGTH)).success, true);
    assert.equal(DisplayName.safeParse(CODER.repeat(MAX_NAME_LENGTH + 1)).success, false);
    assert.equal(DisplayName.safeParse("王".repeat(MAX_NAME_LENGTH)).success, true);
    assert.equal(DisplayName.safeParse("王".repeat(MAX_NAME_LENGTH + 1)).success, false);
    assert.equal(GroupName.safeParse(`读书会${THUMB}`.repeat(MAX_GROUP_NAME_LENGTH / 4)).success, true);
    assert.equal(
      GroupName.safeParse(`读书会${THUMB}`.repeat(MAX_GROUP_NAME_LENGTH / 4) + HAN).success,
      false,
    );
    // 255 code units is what file systems allow, whatever it looks like: 63 emoji is 252.
    assert.equal(FileName.safeParse(`${THUMB.repeat(63)}.txt`).success, false);
    assert.equal(FileName.safeParse(`${THUMB.repeat(62)}.txt`).success, true);
  });
});

describe("limits on send", () => {
  const crypto = nodeCryptoProvider;
  const client = () =>
    new ParleyClient({ store: new MemoryKeyValueStore(), crypto, engine: new Rfc9420Engine(crypto) });
  const tooLong =
    (length: number, reason = "characters") =>
    (e: unknown) =>
      e instanceof ParleyError &&
      e.code === "too_long" &&
      (e as ParleyError<"too_long">).data.length === length &&
      (e as ParleyError<"too_long">).data.reason === reason;

  it("a message is refused in characters, before anything is sealed", async () => {
    await assert.rejects(
      client().send("Bob", THUMB.repeat(MAX_TEXT_LENGTH + 1)),
      tooLong(MAX_TEXT_LENGTH + 1),
    );
    await assert.rejects(
      client().send("Bob", `a${"\u0301".repeat(MAX_TEXT_LENGTH * 16)}`),
      tooLong(1, "size"),
    );
    // Within the limit, the check lets it through: the next refusal is that there is no profile.
    await assert.rejects(
      client().send("Bob", THUMB.repeat(MAX_TEXT_LENGTH)),
      (e: unknown) => e instanceof ParleyError && e.code === "no_profile",
    );
  });

  it("a name of 64 emoji or Chinese characters is kept; 65 are refused", async () => {
    const badName = (e: unknown) => e instanceof ParleyError && e.code === "bad_name";
    const p = await client().init(CODER.repeat(MAX_NAME_LENGTH), "http://127.0.0.1:8787");
    assert.equal(p.name, CODER.repeat(MAX_NAME_LENGTH));
    await assert.rejects(client().init("王".repeat(MAX_NAME_LENGTH + 1), "http://127.0.0.1:8787"), badName);
    await assert.rejects(client().createGroup(THUMB.repeat(MAX_GROUP_NAME_LENGTH + 1)), badName);
  });
});
