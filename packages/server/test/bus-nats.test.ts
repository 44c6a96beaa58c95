import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { openBus } from "../src/backends.js";
import { NatsBus } from "../src/bus/nats-bus.js";
import { busContract } from "./bus-contract.js";
import { NATS_URL, natsMissing, natsPrefix, skipUnless } from "./services.js";

const skip = await skipUnless(natsMissing);

if (!skip) {
  // Two connections, as two relay nodes have; a subject prefix of its own per test.
  busContract("NATS", async (t) => {
    const prefix = natsPrefix();
    const publisher = await NatsBus.connect(NATS_URL, { prefix });
    const subscriber = await NatsBus.connect(NATS_URL, { prefix });
    t.after(() => Promise.all([publisher.close(), subscriber.close()]));
    return { publisher, subscriber };
  });
}

describe("NatsBus specifics", { skip }, () => {
  it("tells a subscriber once its subscription is live on the server", async (t) => {
    const prefix = natsPrefix();
    const a = await NatsBus.connect(NATS_URL, { prefix });
    const b = await NatsBus.connect(NATS_URL, { prefix });
    t.after(() => Promise.all([a.close(), b.close()]));
    let got = 0;
    const live = new Promise<void>((resolve) => b.subscribe("queueAAAAAAAAAAAAAAAAA", () => got++, resolve));
    await live;
    // No settling: once live, the very first publish from another connection arrives.
    await a.publish("queueAAAAAAAAAAAAAAAAA");
    const deadline = Date.now() + 5000;
    while (got === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.equal(got, 1);
  });

  it("keeps buses with other prefixes apart", async (t) => {
    const a = await NatsBus.connect(NATS_URL, { prefix: natsPrefix() });
    const b = await NatsBus.connect(NATS_URL, { prefix: natsPrefix() });
    const c = await NatsBus.connect(NATS_URL, { prefix: natsPrefix() });
    t.after(() => Promise.all([a.close(), b.close(), c.close()]));
    let foreign = 0;
    await new Promise<void>((resolve) => b.subscribe("q", () => foreign++, resolve));
    await a.publish("q");
    // c's own publish on its own prefix is the marker that a's had time to arrive.
    let marker = 0;
    await new Promise<void>((resolve) => c.subscribe("q", () => marker++, resolve));
    await c.publish("q");
    while (marker === 0) await new Promise((r) => setTimeout(r, 5));
    await a.publish("q");
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(foreign, 0);
  });

  it("is opened by URL with its prefix, and reports health", async (t) => {
    const bus = await openBus(`${NATS_URL}?prefix=${natsPrefix()}`);
    t.after(() => bus.close());
    await bus.probe?.();
    await bus.close();
    await assert.rejects(Promise.resolve().then(() => bus.probe?.()));
    await assert.rejects(openBus("nats://127.0.0.1:1"), /cannot connect/);
  });
});
