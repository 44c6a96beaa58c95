import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { WriteBehind } from "../src/write-behind.js";

describe("WriteBehind", () => {
  it("writes everything in the order it was handed over, with at most `limit` bytes waiting", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "parley-write-behind-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = await open(join(dir, "out"), "w");
    const writer = new WriteBehind(file, 64 * 1024);
    const pieces = Array.from({ length: 40 }, (_, i) => Buffer.alloc(10_000 + i, i));
    for (const piece of pieces) await writer.write(piece);
    await writer.drain();
    await file.close();
    assert.deepEqual(readFileSync(join(dir, "out")), Buffer.concat(pieces));
  });

  it("fails every later write and the drain with the first error, writing nothing after it", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "parley-write-behind-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = await open(join(dir, "out"), "w");
    await file.close(); // every write now fails (EBADF)
    const writer = new WriteBehind(file);
    await writer.write(Buffer.alloc(10)); // queued: the failure comes later
    await assert.rejects(writer.drain(), { code: "EBADF" });
    await assert.rejects(writer.write(Buffer.alloc(10)), { code: "EBADF" });
  });
});
