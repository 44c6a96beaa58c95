import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TurnPacer } from "../src/relay/turn-pacer.js";

describe("TurnPacer", () => {
  it("grants at most perTurn waiters per event-loop turn, in arrival order, and lets I/O in between", async () => {
    const pacer = new TurnPacer(2);
    const order: string[] = [];
    const waits = ["a", "b", "c", "d", "e"].map((name) => pacer.turn().then(() => order.push(name)));
    // Another task queued meanwhile (as an incoming request would be) runs between two grants.
    setImmediate(() => setImmediate(() => order.push("other")));
    assert.equal(pacer.queued, 5);
    await Promise.all(waits);
    assert.deepEqual(order.slice(0, 2), ["a", "b"]);
    assert.ok(order.indexOf("other") < order.indexOf("e"), `others run between turns: ${order.join(",")}`);
    assert.deepEqual(
      order.filter((n) => n !== "other"),
      ["a", "b", "c", "d", "e"],
    );
    assert.equal(pacer.queued, 0);
  });

  it("takes its turns in rounds: a reply that had a piece queues behind the others", async () => {
    const pacer = new TurnPacer(1);
    const log: string[] = [];
    const reply = async (name: string) => {
      for (let i = 0; i < 3; i++) {
        await pacer.turn();
        log.push(`${name}${i}`);
      }
    };
    await Promise.all([reply("x"), reply("y")]);
    assert.deepEqual(log, ["x0", "y0", "x1", "y1", "x2", "y2"]);
  });

  it("refuses a perTurn that is not a positive integer", () => {
    assert.throws(() => new TurnPacer(0), RangeError);
    assert.throws(() => new TurnPacer(1.5), RangeError);
  });
});
