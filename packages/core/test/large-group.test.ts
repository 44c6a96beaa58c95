/**
 * A group of a few hundred members built in-process the way the client does it — adds in batches,
 * one commit each — to prove the batching, removal and persistence paths at a size where whole-tree
 * costs show. Most members never come online; a handful join from Welcomes and follow every commit.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { nodeCryptoProvider } from "../src/crypto/node-provider.js";
import { utf8 } from "../src/encoding/bytes.js";
import { createIdentity } from "../src/identity/identity-key.js";
import type { GroupState, IncomingMessage, KeyPackageBundle } from "../src/mls/engine.js";
import { Rfc9420Engine } from "../src/mls/rfc9420-engine/index.js";

const crypto = nodeCryptoProvider;
const engine = new Rfc9420Engine(crypto);
const SIZE = 300;
const BATCH = 100;

function expect<K extends IncomingMessage["kind"]>(r: IncomingMessage, kind: K) {
  assert.equal(r.kind, kind);
  return r as Extract<IncomingMessage, { kind: K }>;
}

describe("a group of a few hundred members", () => {
  it("batched adds, messages, a removal, a late joiner, persistence", { timeout: 60_000 }, async () => {
    const started = performance.now();
    const people = await Promise.all(Array.from({ length: SIZE + 1 }, () => createIdentity(crypto)));
    const kps: KeyPackageBundle[] = [];
    for (const p of people) kps.push(await engine.createKeyPackage(p.device));

    let alice = await engine.createGroup(crypto.randomBytes(16), people[0]!.device, kps[0]!, utf8("big"));
    // Who follows along: Bob joins from the first batch's Welcome and processes every later commit;
    // Carol and Dave join from the last one. Everyone else just sits in the tree.
    const followers = new Map<string, GroupState>();
    const BOB = 1;
    const CAROL = SIZE - 2;
    const DAVE = SIZE - 1;
    for (let from = 1; from < SIZE; from += BATCH) {
      const to = Math.min(SIZE, from + BATCH);
      const r = await engine.commit(alice, { add: kps.slice(from, to).map((k) => k.publicMessage) });
      assert.equal(r.commits.length, 1, "a batch is one commit");
      assert.equal(r.added.length, to - from);
      alice = r.state;
      for (const [name, s] of followers) {
        const got = expect(await engine.process(s, r.commits[0]!), "commit");
        assert.equal(got.added.length, to - from);
        followers.set(name, got.state);
      }
      if (from <= BOB && BOB < to) followers.set("bob", await engine.joinFromWelcome(r.welcome!, kps[BOB]!));
      if (from <= CAROL && CAROL < to) {
        followers.set("carol", await engine.joinFromWelcome(r.welcome!, kps[CAROL]!));
        followers.set("dave", await engine.joinFromWelcome(r.welcome!, kps[DAVE]!));
      }
    }
    assert.equal(engine.members(alice).length, SIZE);
    for (const s of followers.values()) {
      assert.equal(s.epoch, alice.epoch);
      assert.equal(engine.members(s).length, SIZE);
      assert.deepEqual(engine.metadata(s), utf8("big"));
    }

    // Everyone who is online reads everyone else; the sender is named.
    const send = async (fromName: string, text: string) => {
      const from = fromName === "alice" ? alice : followers.get(fromName)!;
      const sent = await engine.encrypt(from, utf8(text));
      if (fromName === "alice") alice = sent.state;
      else followers.set(fromName, sent.state);
      const readers: [string, GroupState][] = [["alice", alice], ...followers];
      for (const [name, s] of readers) {
        if (name === fromName) continue;
        const got = expect(await engine.process(s, sent.message), "application");
        assert.deepEqual(got.plaintext, utf8(text));
        assert.equal(got.sender.leafIndex, engine.ownLeafIndex(from));
        if (name === "alice") alice = got.state;
        else followers.set(name, got.state);
      }
      return sent.message;
    };
    await send("bob", "hello from bob");
    await send("carol", "hello from carol");
    await send("alice", "hello from alice");

    // Persistence: within an epoch only the (small) ratchet part changes; a reload carries on.
    const before = engine.serialize(followers.get("carol")!);
    await send("dave", "hello from dave");
    const after = engine.serialize(followers.get("carol")!);
    assert.deepEqual(after.epochPart, before.epochPart);
    assert.ok(after.ratchetPart.length < 4096, `ratchet part of ${after.ratchetPart.length} bytes`);
    // What changes once per epoch (the epoch part, and the tree stored apart as pieces) is the bulk.
    const perEpoch = after.epochPart.length + (after.tree?.pieces.reduce((n, p) => n + p.length, 0) ?? 0);
    assert.ok(perEpoch > 50 * after.ratchetPart.length);
    assert.deepEqual(after.tree, before.tree, "a message changes no tree piece");
    for (const [name, s] of followers) followers.set(name, engine.deserialize(engine.serialize(s)));
    alice = engine.deserialize(engine.serialize(alice));
    await send("carol", "after reloading");

    // Alice removes Dave: a removal commit, then a path-only one. Dave is told; the others follow.
    const removal = await engine.commit(alice, { remove: [DAVE] });
    alice = removal.state;
    let dave = followers.get("dave")!;
    followers.delete("dave");
    dave = expect(await engine.process(dave, removal.commits[0]!), "removed").state;
    for (const [name, s] of followers) {
      let state = s;
      for (const c of removal.commits) state = expect(await engine.process(state, c), "commit").state;
      followers.set(name, state);
      assert.equal(state.epoch, alice.epoch);
    }
    assert.equal(engine.members(alice).length, SIZE - 1);
    const secret = await send("bob", "dave is gone");
    await assert.rejects(engine.process(dave, secret));
    for (const c of removal.commits.slice(1)) await assert.rejects(engine.process(dave, c));

    // A late joiner reads what follows, not what came before.
    const eveKp = kps[SIZE]!;
    const add = await engine.commit(alice, { add: [eveKp.publicMessage] });
    alice = add.state;
    for (const [name, s] of followers)
      followers.set(name, expect(await engine.process(s, add.commits[0]!), "commit").state);
    const eve = await engine.joinFromWelcome(add.welcome!, eveKp);
    assert.equal(engine.members(eve).length, SIZE);
    followers.set("eve", eve);
    await assert.rejects(engine.process(eve, secret), /epoch/);
    await send("alice", "welcome eve");
    await send("eve", "thanks");

    const seconds = (performance.now() - started) / 1000;
    assert.ok(seconds < 60, `took ${seconds.toFixed(1)} s`);
  });
});
