/**
 * Decoded trees by their stored bytes (rfc9420/tree-cache.ts): a member that saves its state after a
 * commit and loads it again for the next one must not decode its whole tree again (O(N) per commit
 * when catching up on a large group), and sharing the decoded tree must never let one state's change
 * reach another, nor serve a tree for bytes that differ from those it was stored as.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { utf8 } from "../src/encoding/bytes.js";
import { decodeRatchetTree, encodeRatchetTree } from "../src/mls/rfc9420/ratchet-tree.js";
import { cachedTree, rememberTree } from "../src/mls/rfc9420/tree-cache.js";
import { engine, engineGroup, leafKeys, treeOf } from "./helpers/engine-group.js";

async function group(size: number) {
  const { alice, others, outside } = await engineGroup(size, 2);
  return { alice, others, newcomers: outside };
}

describe("decoded trees by their stored bytes", () => {
  it("a state saved after a commit loads with the tree it was saved with, not a decoded copy", async () => {
    const { alice, others, newcomers } = await group(6);
    const c = await engine.commit(engine.deserialize(engine.serialize(alice)), {
      add: [newcomers[0]!.publicMessage],
    });
    // Bob processes the commit on his loaded state, saves, and loads again for the next message.
    const bob = await engine.process(engine.deserialize(engine.serialize(others[0]!)), c.commits[0]!);
    assert.equal(bob.kind, "commit");
    const loaded = engine.deserialize(engine.serialize(bob.state));
    // The same node objects: shared, not decoded again.
    assert.equal(treeOf(loaded).node(0), treeOf(bob.state).node(0));
    assert.deepEqual(leafKeys(loaded), leafKeys(c.state));
    // And the loaded state works on: it opens a message of its epoch and follows the next commit.
    const m = await engine.encrypt(c.state, utf8("hello"));
    const opened = await engine.process(loaded, m.message);
    assert.equal(opened.kind, "application");
  });

  it("one load's change does not reach another load of the same bytes", async () => {
    const { alice, newcomers } = await group(6);
    const stored = engine.serialize(alice);
    const before = leafKeys(alice);
    const first = engine.deserialize(stored);
    const second = engine.deserialize({ ...stored, epochPart: stored.epochPart.slice() });
    const c = await engine.commit(first, { add: [newcomers[0]!.publicMessage], remove: [1] });
    assert.notDeepEqual(leafKeys(c.state), before);
    assert.deepEqual(leafKeys(second), before);
    assert.deepEqual(leafKeys(engine.deserialize(stored)), before);
    // The other load commits its own change on the old epoch: its tree is its own.
    const d = await engine.commit(second, { add: [newcomers[1]!.publicMessage] });
    assert.equal(engine.members(d.state).length, before.length + 1);
    assert.equal(engine.members(c.state).length, before.length);
  });

  it("serves a tree only for exactly the bytes it was stored as, and a fork each time", async () => {
    const { alice } = await group(4);
    const bytes = encodeRatchetTree(treeOf(alice));
    rememberTree("k", bytes, decodeRatchetTree(bytes));
    const other = bytes.slice();
    other[other.length - 1]! ^= 1;
    assert.equal(cachedTree("k", other), undefined);
    assert.equal(cachedTree("other key", bytes), undefined);
    const a = cachedTree("k", bytes.slice())!;
    a.setLeaf(1, undefined);
    const b = cachedTree("k", bytes)!;
    assert.notEqual(b.leaf(1), undefined, "a change to one fork reached the next");
  });
});
