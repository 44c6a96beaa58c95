/**
 * The TLS presentation language codec (mls/tls-codec.ts) at the edges of its integers: what is
 * written reads back, the highest values included (a u32 with its top bit set is not negative), and a
 * truncated input is refused with TlsDecodeError, never read past its end.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TlsDecodeError, TlsReader, TlsWriter } from "../src/mls/tls-codec.js";

describe("TLS codec integers", () => {
  it("u8, u16, u32, u64 and varint sizes read back at their edges", () => {
    const u32s = [0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
    const u64s = [0n, 1n, 0xffffffffn, 0x100000000n, 0x7fffffffffffffffn, 0xffffffffffffffffn];
    const lengths = [0, 0x3f, 0x40, 0x3fff, 0x4000, 0x12345];
    const w = new TlsWriter();
    w.u8(0).u8(0xff).u16(0).u16(0xffff).u16(0x8001);
    for (const x of u32s) w.u32(x);
    for (const x of u64s) w.u64(x);
    for (const n of lengths) w.vector(new Uint8Array(n).fill(n & 0xff));
    const r = new TlsReader(w.finish());
    assert.deepEqual([r.u8(), r.u8(), r.u16(), r.u16(), r.u16()], [0, 0xff, 0, 0xffff, 0x8001]);
    assert.deepEqual(
      u32s.map(() => r.u32()),
      u32s,
    );
    assert.deepEqual(
      u64s.map(() => r.u64()),
      u64s,
    );
    for (const n of lengths) {
      const v = r.vector();
      assert.equal(v.length, n);
      assert.ok(v.every((b) => b === (n & 0xff)));
    }
    r.end();
  });

  it("refuses a truncated integer or vector, and non-minimal or invalid size prefixes", () => {
    const cases: [string, number[], (r: TlsReader) => unknown][] = [
      ["u16 with one byte", [1], (r) => r.u16()],
      ["u32 with three bytes", [1, 2, 3], (r) => r.u32()],
      ["u64 with seven bytes", [1, 2, 3, 4, 5, 6, 7], (r) => r.u64()],
      ["a vector longer than the input", [3, 1, 2], (r) => r.vector()],
      ["a 4-byte size prefix cut short", [0x80, 0, 1], (r) => r.varint()],
      ["a non-minimal 2-byte size", [0x40, 0x3f], (r) => r.varint()],
      ["a non-minimal 4-byte size", [0x80, 0, 0x3f, 0xff], (r) => r.varint()],
      ["the invalid 0b11 prefix", [0xc0, 0, 0, 0, 0, 0, 0, 1], (r) => r.varint()],
    ];
    for (const [what, bytes, read] of cases) {
      assert.throws(() => read(new TlsReader(new Uint8Array(bytes))), TlsDecodeError, what);
    }
    // A failed read moves nothing: the bytes are still there for the caller's error report.
    const r = new TlsReader(new Uint8Array([1, 2, 3]));
    assert.throws(() => r.u32(), TlsDecodeError);
    assert.equal(r.remaining, 3);
  });
});
