/** toHex / fromHex (protocol's encoding/bytes.ts): every byte value, empty input, views into buffers. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fromHex, toHex } from "../src/encoding/bytes.js";

describe("hex", () => {
  it("writes every byte value as two lowercase digits, and reads them back", () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const hex = toHex(all);
    assert.equal(hex, Buffer.from(all).toString("hex"));
    assert.deepEqual(fromHex(hex), all);
    assert.equal(toHex(new Uint8Array(0)), "");
  });

  it("reads only the view it is given, not its whole buffer", () => {
    const buffer = Uint8Array.of(0xff, 0x00, 0xab, 0x10, 0xff);
    assert.equal(toHex(buffer.subarray(1, 4)), "00ab10");
  });
});
