/**
 * A stored group state's ratchet trees are decoded on first use (rfc9420/ratchet-tree.ts,
 * RatchetTree.lazy; issue 12: a post to 5,000 friends must not decode 5,000 leaves). Laziness must
 * never serve what was loaded once the tree has changed: a change made before the first use stays,
 * a commit on a loaded state is saved and reloaded with its new tree (not the loaded bytes), and
 * the state that was loaded keeps its own members.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fromUtf8, utf8 } from "../src/encoding/bytes.js";
import type { GroupState } from "../src/mls/engine.js";
import { decodeRatchetTree, encodeRatchetTree, RatchetTree } from "../src/mls/rfc9420/ratchet-tree.js";
import { encodeEpochPart, unwrap } from "../src/mls/rfc9420-engine/state.js";
import { engine, engineGroup, leafKeys, storedForm, treeOf } from "./helpers/engine-group.js";

const reload = (s: GroupState) => engine.deserialize(engine.serialize(s));

async function group(size: number) {
  // The last person is not in the group yet: a commit below adds them.
  const { alice, others, outside, people } = await engineGroup(size, 1);
  return { alice, others, newcomer: outside[0]!, people };
}

describe("lazily decoded ratchet trees", () => {
  it("a change made before the first use is kept; the stored nodes are decoded once", async () => {
    const { alice } = await group(4);
    const bytes = encodeRatchetTree(treeOf(alice));
    let decodes = 0;
    const lazy = () =>
      RatchetTree.lazy(treeOf(alice).leafCount, () => {
        decodes++;
        return decodeRatchetTree(bytes);
      });
    const t = lazy();
    assert.equal(t.decoded, false);
    assert.equal(t.leafCount, 4);
    assert.equal(decodes, 0);
    t.setLeaf(1, undefined); // first use: a change
    assert.equal(t.leaf(1), undefined, "the change made on first use is lost to the stored nodes");
    assert.notEqual(t.leaf(0), undefined);
    assert.equal(decodes, 1);
    assert.equal(t.fork().leaf(1), undefined);
    assert.equal(decodes, 1);

    const grown = lazy();
    grown.extend(); // first use: the tree doubles
    assert.equal(grown.leafCount, 8);
    assert.notEqual(grown.leaf(2), undefined);
    assert.equal(grown.leaf(5), undefined);

    // A forked lazy tree is a copy of the decoded nodes: changing one does not change the other.
    const a = lazy();
    const b = a.fork();
    b.setLeaf(2, undefined);
    assert.notEqual(a.leaf(2), undefined);
    // Stored nodes of another leaf count are refused when they are decoded.
    const wrong = RatchetTree.lazy(8, () => decodeRatchetTree(bytes));
    assert.throws(() => wrong.leaf(0), /malformed|leaves/);
  });

  it("a loaded state's past trees are decoded on first use, not at load", async () => {
    const { alice, newcomer } = await group(4);
    const c = await engine.commit(alice, { add: [newcomer.publicMessage] });
    const loaded = engine.deserialize(engine.serialize(c.state));
    const past = unwrap(loaded, true).past[0]!.tree;
    assert.equal(past.decoded, false, "a past epoch's differences were applied at load");
    assert.equal(past.leafCount, 4);
    // The epoch before the add: the newcomer's leaf (3) blank there, filled now.
    assert.equal(past.leaf(3), undefined);
    assert.notEqual(treeOf(loaded).leaf(3), undefined);
    assert.equal(past.decoded, true);
    assert.deepEqual(past.leaf(0), treeOf(alice).leaf(0));
  });

  it("a save after a commit on a loaded state writes the older past epochs as stored, undecoded", async () => {
    const { alice } = await group(4);
    let s = alice;
    for (let i = 0; i < 3; i++) s = (await engine.commit(s, {})).state;
    const loaded = engine.deserialize(storedForm(engine.serialize(s)));
    const before = unwrap(loaded, true).past.map((p) => p.tree);
    assert.equal(before.length, 4);
    const c = await engine.commit(loaded, {});
    const saved = engine.serialize(c.state);
    const past = unwrap(c.state, true).past;
    assert.equal(past[1]!.tree, before[0]);
    assert.equal(past[1]!.tree.decoded, false, "a past epoch's tree decoded to be written again");
    assert.equal(past[2]!.tree.decoded, false);
    // And written as they would be encoded anew.
    assert.deepEqual(encodeEpochPart(unwrap(engine.deserialize(storedForm(saved))), false), saved.epochPart);
  });

  it("sending leaves the tree undecoded; a commit on a loaded state is saved with its new tree", async () => {
    const { alice, others, newcomer } = await group(4);
    const [bob] = others;
    const stored = storedForm(engine.serialize(alice));
    const loaded = engine.deserialize(stored);
    assert.equal(treeOf(loaded).decoded, false);
    const sent = await engine.encrypt(loaded, utf8("before"));
    const saved = engine.serialize(sent.state);
    assert.equal(treeOf(sent.state).decoded, false, "sending an application message decoded the tree");
    assert.deepEqual(saved.epochPart, stored.epochPart);
    const got = await engine.process(bob!, sent.message);
    assert.equal(got.kind, "application");

    // The commit's first use of the loaded tree: the new member is in the saved and reloaded state.
    const before = leafKeys(alice);
    const c = await engine.commit(engine.deserialize(saved), { add: [newcomer.publicMessage] });
    const after = engine.serialize(c.state);
    assert.notDeepEqual(after.epochPart, stored.epochPart);
    assert.deepEqual(encodeEpochPart(unwrap(c.state), false), after.epochPart);
    const reloaded = engine.deserialize(after);
    assert.equal(engine.members(reloaded).length, 4);
    assert.deepEqual(leafKeys(reloaded), leafKeys(c.state));
    assert.notDeepEqual(leafKeys(reloaded), before);
    // The state loaded before the commit still has its own tree (3 members).
    assert.deepEqual(leafKeys(engine.deserialize(stored)), before);

    // A member that loads its state (lazy) and processes the commit sees the newcomer; its past
    // epoch (lazy too: the differences from the new tree) still opens a late message of that epoch.
    const late = await engine.encrypt(reload(got.state), utf8("late"));
    const carol = others[1]!;
    const carolNext = await engine.process(reload(carol), c.commits[0]!);
    assert.equal(carolNext.kind, "commit");
    const carolLoaded = reload(carolNext.state);
    assert.deepEqual(leafKeys(carolLoaded), leafKeys(c.state));
    const opened = await engine.process(carolLoaded, late.message);
    assert.equal(opened.kind, "application");
    if (opened.kind === "application") assert.equal(fromUtf8(opened.plaintext), "late");
    // Saved again after a late message: the epoch part as loaded, its past tree three members wide.
    const carolSaved = engine.serialize(opened.state);
    assert.deepEqual(carolSaved.epochPart, engine.serialize(carolNext.state).epochPart);
    assert.deepEqual(encodeEpochPart(unwrap(engine.deserialize(carolSaved)), false), carolSaved.epochPart);
  });
});
