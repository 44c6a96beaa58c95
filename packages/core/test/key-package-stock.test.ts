/**
 * The KeyPackage stock (client/key-packages.ts, RFC 9420 §16.8): a contact who stays offline while
 * an admin adds them to more groups than their stock of single-use KeyPackages can be added all the
 * same, with their last-resort KeyPackage; when they come back, the stock is replenished and the
 * last-resort one replaced; no single-use KeyPackage's private part outlives its first use.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { KEY_PACKAGE_STOCK } from "../src/client/key-packages.js";
import { keyPackageCipherSuiteId } from "../src/mls/engine.js";
import { unb64 } from "../src/store/repository.js";
import { groupView } from "./helpers/group-view.js";
import { connect, eventsOf, person, relayForThisFile } from "./helpers/people.js";

const relay = relayForThisFile();

it("an offline contact whose stock ran dry is added all the same, and the stock is replenished when they come back", async () => {
  const alice = await person("Alice", relay.url);
  const bob = await person("Bob", relay.url);
  await connect(alice.client, bob.client);
  const bobId = (await alice.client.findContact("Bob")).id;
  const suite1 = (await alice.client.repo.theirKeyPackages(bobId)).filter(
    ([, k]) => keyPackageCipherSuiteId(unb64(k.keyPackage)) === 1,
  );
  assert.equal(suite1.length, KEY_PACKAGE_STOCK + 1, "three used once, and one last-resort");
  const [[lastRef]] = suite1.filter(([, k]) => k.lastResort) as [[string, unknown]];
  const singleRefs = suite1.filter(([, k]) => !k.lastResort).map(([ref]) => ref);
  assert.ok((await bob.client.repo.ownKeyPackage(lastRef))?.lastResort, "Bob marked it too");

  // Bob is offline; Alice adds him to more groups than he has single-use KeyPackages.
  const groups = Array.from({ length: KEY_PACKAGE_STOCK + 2 }, (_, i) => `Group ${i + 1}`);
  for (const g of groups) {
    await alice.client.createGroup(g);
    await alice.client.addToGroup(g, ["Bob"]);
  }
  const left = await alice.client.repo.theirKeyPackages(bobId);
  assert.deepEqual(
    left.filter(([, k]) => keyPackageCipherSuiteId(unb64(k.keyPackage)) === 1).map(([ref]) => ref),
    [lastRef],
    "only the last-resort one is left, kept after its use",
  );

  // Bob comes back: he joins every group.
  const events = await bob.client.sync();
  assert.equal(
    eventsOf(events, "group").filter((e) => e.change === "joined").length,
    groups.length,
    "one Welcome per group, each accepted",
  );
  // Single-use private parts are gone; the last-resort one stays (retired) for Welcomes still on their way.
  for (const ref of singleRefs) assert.equal(await bob.client.repo.ownKeyPackage(ref), undefined);
  assert.ok((await bob.client.repo.ownKeyPackage(lastRef))?.lastResort?.retiredAt, "retired, kept a while");

  // Alice reads Bob's replenishment: single-use ones again, and a new last-resort one instead of the old.
  await alice.client.sync();
  const after = (await alice.client.repo.theirKeyPackages(bobId)).filter(
    ([, k]) => keyPackageCipherSuiteId(unb64(k.keyPackage)) === 1,
  );
  const lastResort = after.filter(([, k]) => k.lastResort);
  assert.equal(lastResort.length, 1, "one last-resort KeyPackage of the suite");
  assert.notEqual(lastResort[0]?.[0], lastRef, "a new one");
  assert.ok(after.length >= 2, "single-use ones are back");

  // In each group joined with the last-resort KeyPackage Bob's leaf key changed at once (it was
  // the same in every group): his sync committed a fresh UpdatePath there, which Alice follows.
  await bob.client.sync();
  await alice.client.sync();
  for (const g of groups) {
    const a = await groupView(alice.store, g);
    const b = await groupView(bob.store, g);
    assert.ok(a && b, `${g}: both in it`);
    assert.equal(a.authenticator, b.authenticator, `${g}: the same epoch for both`);
  }
  const epochs = await Promise.all(groups.map(async (g) => (await groupView(bob.store, g))!.epoch));
  assert.ok(
    epochs.slice(KEY_PACKAGE_STOCK).every((e) => e > epochs[0]!),
    "the groups joined with the last-resort KeyPackage have moved on by Bob's key update",
  );
  await alice.client.send(groups.at(-1)!, "hello in the last group");
  await bob.client.sync();
  assert.deepEqual(
    (await bob.client.messages(groups.at(-1)!)).map((m) => m.text),
    ["hello in the last group"],
  );
});
