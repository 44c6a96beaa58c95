/**
 * Rfc9420Engine's persisted state (issue 10, performance): past epochs' trees are stored as their
 * differences from the next newer tree, and the tree's cached parent hashes are kept. Through a group
 * that grows (the tree doubles), shrinks (it halves) and changes keys, every state reloaded from its
 * serialized form must behave as the original: late application messages of each past epoch open,
 * the next commit is processed, and a reloaded state serializes to the same bytes.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { nodeCryptoProvider } from "../src/crypto/node-provider.js";
import { fromUtf8, utf8 } from "../src/encoding/bytes.js";
import { createIdentity } from "../src/identity/identity-key.js";
import type { GroupState } from "../src/mls/engine.js";
import { Rfc9420Engine } from "../src/mls/rfc9420-engine/index.js";
import { encodeEpochPart, unwrap } from "../src/mls/rfc9420-engine/state.js";

const crypto = nodeCryptoProvider;
const engine = new Rfc9420Engine(crypto);
const reload = (s: GroupState) => engine.deserialize(engine.serialize(s));

describe("Rfc9420Engine persistence", () => {
  it("reloaded states keep past epochs (trees as differences) and process the next commit", async () => {
    const people = await Promise.all(Array.from({ length: 12 }, () => createIdentity(crypto)));
    const kps = await Promise.all(people.map((p) => engine.createKeyPackage(p.device)));
    let alice = await engine.createGroup(crypto.randomBytes(16), people[0]!.device, kps[0]!);
    const r1 = await engine.commit(alice, { add: [kps[1]!.publicMessage] });
    alice = r1.state;
    let bob = await engine.joinFromWelcome(r1.welcome!, kps[1]!);
    // Bob writes one message per epoch; Alice receives them all only after the epochs moved on.
    const late: Uint8Array[] = [];
    const steps: Parameters<Rfc9420Engine["commit"]>[1][] = [
      { add: kps.slice(2, 9).map((k) => k.publicMessage) }, // 2 → 9 members: the tree doubles twice
      {},
      { remove: [5, 6, 7, 8] }, // back to 5 members: the tree halves
      { add: [kps[9]!.publicMessage] },
    ];
    for (const [i, changes] of steps.entries()) {
      const sent = await engine.encrypt(reload(bob), utf8(`epoch ${i}`));
      bob = sent.state;
      late.push(sent.message);
      const r = await engine.commit(reload(alice), changes);
      alice = r.state;
      bob = (await engine.process(reload(bob), r.commits[0]!)).state;
    }
    // The 4 past epochs kept: each late message opens from a reloaded state.
    let a = reload(alice);
    for (const [i, m] of late.entries()) {
      const got = await engine.process(a, m);
      assert.equal(got.kind, "application");
      if (got.kind === "application") assert.equal(fromUtf8(got.plaintext), `epoch ${i}`);
      a = reload(got.state);
    }
    const r = await engine.commit(a, {});
    const b = await engine.process(reload(bob), r.commits[0]!);
    assert.equal(b.kind, "commit");
    assert.deepEqual(
      await engine.exportSecret(reload(r.state), "x", new Uint8Array(0), 16),
      await engine.exportSecret(b.state, "x", new Uint8Array(0), 16),
    );
    // A reloaded state serializes to the same bytes (nothing lost or reordered by the differences).
    // (Encoded anew: serialize hands a reloaded state's epoch part back from the bytes it was loaded from.)
    const saved = engine.serialize(b.state);
    const reloaded = reload(b.state);
    assert.deepEqual(encodeEpochPart(unwrap(reloaded), false), saved.epochPart);
    assert.deepEqual(engine.serialize(reloaded).ratchetPart, saved.ratchetPart);
  });

  it("an application message does not encode the epoch part again; a commit does", async () => {
    const people = await Promise.all(Array.from({ length: 3 }, () => createIdentity(crypto)));
    const kps = await Promise.all(people.map((p) => engine.createKeyPackage(p.device)));
    const created = await engine.createGroup(crypto.randomBytes(16), people[0]!.device, kps[0]!);
    const r1 = await engine.commit(created, { add: kps.slice(1).map((k) => k.publicMessage) });
    const bob = await engine.joinFromWelcome(r1.welcome!, kps[1]!);
    const carol = await engine.joinFromWelcome(r1.welcome!, kps[2]!);
    const stored = engine.serialize(r1.state);
    // Loaded, one message sent, saved: the epoch part is the one loaded (same bytes), the ratchet
    // part moved, and the saved state goes on (its next message opens at Bob's).
    const loaded = engine.deserialize(stored);
    const sent = await engine.encrypt(loaded, utf8("one"));
    const after = engine.serialize(sent.state);
    assert.deepEqual(after.epochPart, stored.epochPart);
    // Not encoded again: saving the same state twice hands out the one buffer.
    assert.equal(engine.serialize(sent.state).epochPart, after.epochPart);
    assert.deepEqual(encodeEpochPart(unwrap(sent.state), false), stored.epochPart);
    assert.notDeepEqual(after.ratchetPart, stored.ratchetPart);
    const got = await engine.process(bob, sent.message);
    assert.equal(got.kind, "application");
    const next = await engine.encrypt(engine.deserialize(after), utf8("two"));
    const got2 = await engine.process(got.state, next.message);
    assert.equal(got2.kind, "application");
    if (got2.kind === "application") assert.equal(fromUtf8(got2.plaintext), "two");
    // A commit on that state: the cached epoch part must not be reused (new tree, context, secrets).
    const c = await engine.commit(next.state, { remove: [2] });
    const saved = engine.serialize(c.state);
    assert.notDeepEqual(saved.epochPart, stored.epochPart);
    assert.deepEqual(encodeEpochPart(unwrap(c.state), false), saved.epochPart);
    const bobNext = await engine.process(got2.state, c.commits[0]!);
    assert.equal(bobNext.kind, "commit");
    assert.deepEqual(
      await engine.exportSecret(engine.deserialize(saved), "x", new Uint8Array(0), 16),
      await engine.exportSecret(bobNext.state, "x", new Uint8Array(0), 16),
    );
    // Carol, removed by that commit, keeps her last state for reading only: the same epoch, tree and
    // secrets as before, so only the "removed" mark tells the two epoch parts apart.
    const carolStored = engine.serialize(engine.deserialize(engine.serialize(carol)));
    const gone = await engine.process(engine.deserialize(carolStored), c.commits[0]!);
    assert.equal(gone.kind, "removed");
    const goneSaved = engine.serialize(gone.state);
    assert.notDeepEqual(goneSaved.epochPart, carolStored.epochPart);
    await assert.rejects(engine.encrypt(engine.deserialize(goneSaved), utf8("after removal")), /removed/);
  });
});
