import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Problem } from "../src/problem.js";
import { ByteBudget } from "../src/relay/byte-budget.js";

/** Whether a promise has settled, after letting queued callbacks run. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  await new Promise((r) => setImmediate(r));
  return done;
}

describe("ByteBudget", () => {
  it("grants within the limit, makes later requests wait, and serves them in order", async () => {
    const budget = new ByteBudget(100);
    const a = await budget.acquire(60);
    const b = await budget.acquire(40);
    assert.equal(budget.inUse, 100);
    const c = budget.acquire(50);
    const d = budget.acquire(10);
    assert.equal(await settled(c), false, "no room for c");
    assert.equal(await settled(d), false, "d waits behind c, though it would fit after a release of 10");
    assert.equal(budget.waiting, 2);
    b.shrink(30);
    assert.equal(await settled(c), false, "10 bytes free is not enough for c");
    assert.equal(await settled(d), false, "first come, first served");
    a.release();
    assert.equal(await settled(c), true);
    assert.equal(await settled(d), true);
    assert.equal(budget.inUse, 30 + 50 + 10);
    assert.equal(budget.highWater, 100);
    a.release();
    assert.equal(budget.inUse, 90, "release is idempotent");
    b.release();
    (await c).release();
    (await d).release();
    assert.equal(budget.inUse, 0);
    assert.equal(budget.highWater, 100, "never above the limit");
  });

  it("lets a request larger than the whole budget run alone", async () => {
    const budget = new ByteBudget(100);
    const small = await budget.acquire(1);
    const huge = budget.acquire(1000);
    assert.equal(await settled(huge), false);
    small.release();
    const lease = await huge;
    assert.equal(lease.bytes, 100);
    assert.equal(budget.tryAcquire(1), undefined);
    lease.release();
    assert.ok(budget.tryAcquire(1));
  });

  it("refuses with busy after waitMs, and a waiter that gives up lets the next one in", async () => {
    const budget = new ByteBudget(10);
    const held = await budget.acquire(10);
    await assert.rejects(budget.acquire(5, { waitMs: 0 }), (e) => e instanceof Problem && e.code === "busy");
    const late = budget.acquire(10, { waitMs: 20 });
    const after = budget.acquire(1);
    await assert.rejects(late, (e) => e instanceof Problem && e.code === "busy" && e.status === 503);
    assert.equal(budget.waiting, 1);
    held.shrink(9);
    assert.equal(await settled(after), true, "the one behind the refused waiter is served");
    const controller = new AbortController();
    const aborted = budget.acquire(10, { signal: controller.signal });
    controller.abort(new Error("closed"));
    await assert.rejects(aborted, /closed/);
    assert.equal(budget.waiting, 0);
  });
});

describe("byte budget: the small-reply reserve", () => {
  it("lets small replies past large waiters, within the reserve only", async () => {
    const budget = new ByteBudget(100, 10, 4);
    const big = budget.tryAcquire(100)!;
    const waiting = budget.acquire(50); // a large request waits for room
    const small = budget.tryAcquire(4);
    assert.ok(small, "a small reply does not queue behind the large waiter");
    const more = [budget.tryAcquire(4), budget.tryAcquire(4)];
    assert.deepEqual(
      more.map((l) => l !== undefined),
      [true, false],
      "until the reserve is used up",
    );
    assert.equal(budget.tryAcquire(5), undefined, "a request above smallMax never uses the reserve");
    big.release();
    small.release();
    for (const l of more) l?.release();
    const granted = await waiting;
    assert.equal(granted.bytes, 50);
    granted.release();
    assert.equal(budget.inUse, 0);
  });
});
