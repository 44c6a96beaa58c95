import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BodyPool, classOf } from "../src/relay/body-pool.js";

const MIB = 1024 * 1024;

describe("BodyPool", () => {
  it("sizes buffers in power-of-two classes of at least 64 KiB", () => {
    assert.equal(classOf(0), 64 * 1024);
    assert.equal(classOf(64 * 1024 + 1), 128 * 1024);
    assert.equal(classOf(8 * MIB), 8 * MIB);
    assert.equal(classOf(8 * MIB - 64), 8 * MIB);
    assert.throws(() => classOf(-1), RangeError);
  });

  it("hands out buffers of the size asked for and reuses them once given back", () => {
    const pool = new BodyPool(64 * MIB);
    const a = pool.borrower();
    const first = a.take(3 * MIB);
    assert.equal(first.length, 3 * MIB);
    first.fill(5);
    a.giveBack();
    assert.equal(pool.kept, 4 * MIB);
    const b = pool.borrower();
    const again = b.take(3 * MIB + 10);
    assert.equal(again.buffer, first.buffer, "the same memory, not a new allocation");
    assert.equal(pool.allocations, 1);
    b.giveBack();
  });

  it("never hands the same buffer to two borrowers at once", () => {
    const pool = new BodyPool(64 * MIB);
    const a = pool.borrower();
    const b = pool.borrower();
    assert.notEqual(a.take(MIB).buffer, b.take(MIB).buffer);
    a.giveBack();
    b.giveBack();
  });

  it("keeps no more than its limit for reuse, and nothing after giving back twice", () => {
    const pool = new BodyPool(8 * MIB);
    const a = pool.borrower();
    a.take(8 * MIB);
    a.take(8 * MIB);
    a.giveBack();
    a.giveBack(); // idempotent: the buffers are not kept twice
    assert.equal(pool.kept, 8 * MIB);
    assert.throws(() => a.take(1), /gave its buffers back/);
  });

  it("drops what it keeps once no one has borrowed for idleMs", async () => {
    const pool = new BodyPool(64 * MIB, 20);
    const a = pool.borrower();
    a.take(MIB);
    a.giveBack();
    assert.equal(pool.kept, MIB);
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(pool.kept, 0);
  });
});
