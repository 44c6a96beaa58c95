/**
 * The behaviour every Bus backend must have, as `store-contract.ts` is for stores. A backend's test
 * opens a pair of buses that reach each other — two relay nodes' connections to the same NATS, or
 * the one LocalBus twice — and publishes on one while subscribing on the other, so what is checked
 * is delivery between nodes, not within one object. Delivery may be asynchronous: every wait has a
 * deadline, and "not delivered" is checked against a later publish that was, never with a sleep.
 */
import assert from "node:assert/strict";
import { describe, it, type TestContext } from "node:test";
import type { Bus } from "../src/bus/bus.js";
import type { StoredMessage } from "../src/store/store.js";

/** Two buses that reach each other (they may be the same object), closed by the backend's test. */
export type OpenBusPair = (t: TestContext) => Promise<{ publisher: Bus; subscriber: Bus }>;

const DEADLINE_MS = 5_000;

/** Counts calls per name, and resolves a wait once a name has been called `n` times. */
class Calls {
  private readonly counts = new Map<string, number>();
  private readonly waiters: { name: string; n: number; resolve: () => void }[] = [];

  handler(name: string): () => void {
    return () => {
      this.counts.set(name, this.count(name) + 1);
      for (const w of this.waiters.filter((w) => w.name === name && this.count(name) >= w.n)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve();
      }
    };
  }

  count(name: string): number {
    return this.counts.get(name) ?? 0;
  }

  async reach(name: string, n: number): Promise<void> {
    if (this.count(name) >= n) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => this.waiters.push({ name, n, resolve })),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${name}: ${this.count(name)} of ${n} calls within ${DEADLINE_MS} ms`)),
          DEADLINE_MS,
        );
      }),
    ]).finally(() => clearTimeout(timer));
  }
}

let n = 0;
/** A queue id of the usual shape, unique per call (backends may share a server between tests). */
const queue = () =>
  `contract${String(n++).padStart(6, "0")}${Math.random().toString(36).slice(2, 10)}`.slice(0, 22);

export function busContract(backend: string, open: OpenBusPair): void {
  describe(`Bus contract: ${backend}`, () => {
    it("delivers each publish on a queue once to its subscriber, and nothing of other queues", async (t) => {
      const { publisher, subscriber } = await open(t);
      const calls = new Calls();
      const [a, b] = [queue(), queue()];
      const stop = subscriber.subscribe(a, calls.handler("a"));
      t.after(stop);
      await settle(publisher, subscriber, calls);
      await publisher.publish(b); // not subscribed
      await publisher.publish(a);
      await publisher.publish(a);
      await calls.reach("a", 2);
      await publisher.publish(a);
      await calls.reach("a", 3);
      assert.equal(calls.count("a"), 3, "once each");
    });

    it("delivers to every subscriber of a queue; an unsubscribed one gets nothing more", async (t) => {
      const { publisher, subscriber } = await open(t);
      const calls = new Calls();
      const q = queue();
      const stopFirst = subscriber.subscribe(q, calls.handler("first"));
      const stopSecond = subscriber.subscribe(q, calls.handler("second"));
      t.after(stopSecond);
      await settle(publisher, subscriber, calls);
      await publisher.publish(q);
      await Promise.all([calls.reach("first", 1), calls.reach("second", 1)]);
      stopFirst();
      stopFirst(); // unsubscribing twice is harmless
      await publisher.publish(q);
      await publisher.publish(q);
      await calls.reach("second", 3);
      assert.equal(calls.count("first"), 1, "nothing after unsubscribing");
    });

    it("keeps delivering to the others when one subscriber's handler throws, and the publisher never sees it", async (t) => {
      const { publisher, subscriber } = await open(t);
      const calls = new Calls();
      const q = queue();
      t.after(
        subscriber.subscribe(q, () => {
          throw new Error("a broken subscriber");
        }),
      );
      t.after(subscriber.subscribe(q, calls.handler("ok")));
      await settle(publisher, subscriber, calls);
      await publisher.publish(q);
      await publisher.publish(q);
      await calls.reach("ok", 2);
    });

    it("hands a small stored message over with its announcement, intact; a bare publish announces only", async (t) => {
      const { publisher, subscriber } = await open(t);
      const calls = new Calls();
      const q = queue();
      const got: (StoredMessage | undefined)[] = [];
      const count = calls.handler("q");
      t.after(
        subscriber.subscribe(q, (m) => {
          // Valid during the call only (Bus.publish): kept as a copy, as a subscription does.
          got.push(m && { ...m, body: Uint8Array.from(m.body) });
          count();
        }),
      );
      await settle(publisher, subscriber, calls);
      const body = Uint8Array.from({ length: 2048 }, (_, i) => (i * 7) & 0xff);
      const message: StoredMessage = {
        msgId: "AAAAAAAAAAAAAAAAAAAAAA",
        body,
        expiresAt: 1_700_003_600_000,
        seq: 1_700_003_600_001,
        prevSeq: 1_700_003_600_000,
      };
      await publisher.publish(q, message);
      body.fill(0); // the publisher's buffer is reused once publish has returned
      await publisher.publish(q);
      await calls.reach("q", 2);
      assert.deepEqual(
        got[0] && { ...got[0], body: Array.from(got[0].body) },
        {
          ...message,
          body: Array.from({ length: 2048 }, (_, i) => (i * 7) & 0xff),
        },
        "the message as published",
      );
      assert.equal(got[1], undefined, "a bare announcement");
    });

    it("serves many queues at once, each to its own subscribers", async (t) => {
      const { publisher, subscriber } = await open(t);
      const calls = new Calls();
      const queues = Array.from({ length: 50 }, queue);
      for (const [i, q] of queues.entries()) t.after(subscriber.subscribe(q, calls.handler(`q${i}`)));
      await settle(publisher, subscriber, calls);
      await Promise.all(
        queues.map((q, i) => Promise.all(Array.from({ length: i % 3 }, () => publisher.publish(q)))),
      );
      await Promise.all(queues.map((_, i) => calls.reach(`q${i}`, i % 3)));
      const marker = queue();
      t.after(subscriber.subscribe(marker, calls.handler("marker")));
      await settle(publisher, subscriber, calls);
      await publisher.publish(marker);
      await calls.reach("marker", 1);
      assert.deepEqual(
        queues.map((_, i) => calls.count(`q${i}`)),
        queues.map((_, i) => i % 3),
        "exactly the publishes of each queue",
      );
    });
  });
}

/**
 * Waits until a subscription made just before is live on the publisher's side (a network bus
 * propagates interest asynchronously): a probe queue subscribed now, published until it arrives.
 */
async function settle(publisher: Bus, subscriber: Bus, calls: Calls): Promise<void> {
  const probe = queue();
  const stop = subscriber.subscribe(probe, calls.handler(probe));
  try {
    for (let i = 1; calls.count(probe) === 0; i++) {
      await publisher.publish(probe);
      await calls.reach(probe, 1).catch((e) => {
        if (i >= 3) throw e;
      });
    }
  } finally {
    stop();
  }
}
