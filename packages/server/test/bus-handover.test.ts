/**
 * The payload a network bus carries with an announcement (bus/handover.ts): a small message whole,
 * anything else as a bare announcement, and nothing malformed taken for a message.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { headedFramePrefix } from "@parley/protocol";
import { decodeHandover, encodeHandover, HANDOVER_MAX_BYTES } from "../src/bus/handover.js";
import type { StoredMessage } from "../src/store/store.js";

const message = (size: number, prevSeq: number | null = 41): StoredMessage => ({
  msgId: "bWVzc2FnZS1pZC0wMDAwMA",
  body: Uint8Array.from({ length: size }, (_, i) => i & 0xff),
  expiresAt: 1_700_000_000_000,
  seq: 42,
  ...(prevSeq === null ? {} : { prevSeq }),
});

const headed = (head: unknown, body = new Uint8Array(8)) => {
  const prefix = headedFramePrefix(head);
  const out = new Uint8Array(prefix.length + body.length);
  out.set(prefix);
  out.set(body, prefix.length);
  return out;
};

describe("bus hand-over payload", () => {
  it("carries a small message whole, its body copied", () => {
    for (const size of [0, 512, 2048, HANDOVER_MAX_BYTES]) {
      const m = message(size);
      const payload = encodeHandover(m);
      m.body.fill(0xee); // the caller's buffer, reused after publish
      const back = decodeHandover(payload);
      assert.ok(back, `size ${size}`);
      assert.deepEqual(
        { ...back, body: Array.from(back.body) },
        { ...message(size), body: Array.from(message(size).body) },
      );
    }
  });

  it("announces bare what it cannot carry: no message, no prevSeq, a body over the limit", () => {
    assert.equal(encodeHandover(undefined).length, 0);
    assert.equal(encodeHandover(message(512, null)).length, 0);
    assert.equal(encodeHandover(message(HANDOVER_MAX_BYTES + 1)).length, 0);
    assert.equal(decodeHandover(new Uint8Array(0)), undefined);
  });

  it("takes nothing malformed for a message", () => {
    const good = { m: "bWVzc2FnZS1pZC0wMDAwMA", s: 42, p: 41, e: 1_700_000_000_000 };
    const bad: [string, Uint8Array][] = [
      ["cut short", encodeHandover(message(512)).subarray(0, 3)],
      ["head longer than the payload", Uint8Array.from([0, 0, 1, 0, 123])],
      ["not JSON", Uint8Array.from([0, 0, 0, 2, 0x7b, 0x7b])],
      ["not an object", headed([1, 2])],
      ["null", headed(null)],
      ["id not a string", headed({ ...good, m: 7 })],
      ["seq not an integer", headed({ ...good, s: 4.5 })],
      ["seq beyond 2^53", headed({ ...good, s: 2 ** 60 })],
      ["prevSeq missing", headed({ m: good.m, s: 42, e: 1 })],
      ["prevSeq not before seq", headed({ ...good, p: 42 })],
      ["expiry a string", headed({ ...good, e: "soon" })],
      ["body over the limit", headed(good, new Uint8Array(HANDOVER_MAX_BYTES + 1))],
    ];
    for (const [why, payload] of bad) assert.equal(decodeHandover(payload), undefined, why);
  });
});
