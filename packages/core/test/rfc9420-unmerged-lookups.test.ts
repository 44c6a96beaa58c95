/**
 * Trees with long unmerged_leaves lists (an add-only commit has no path, so a batch of adds is listed
 * at every non-blank ancestor): the lookups in them are binary searches (tree-hash.ts anyInRange),
 * and the §7.9.2 original tree hash computed with them equals the hash of the subtree with those
 * leaves blanked and removed from every list, computed from scratch.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { nodeCryptoProvider as crypto } from "../src/crypto/node-provider.js";
import { RatchetTree, type TreeNode } from "../src/mls/rfc9420/ratchet-tree.js";
import { anyInRange, originalTreeHash, treeHash } from "../src/mls/rfc9420/tree-hash.js";
import { verifyTreeInvariants } from "../src/mls/rfc9420/tree-invariants.js";
import { engine, engineGroup, treeOf } from "./helpers/engine-group.js";

describe("long unmerged_leaves lists", () => {
  it("anyInRange: a value of a sorted list in [first, end)", () => {
    const sorted = [2, 5, 9, 40];
    assert.equal(anyInRange(sorted, 0, 2), false);
    assert.equal(anyInRange(sorted, 0, 3), true);
    assert.equal(anyInRange(sorted, 3, 5), false);
    assert.equal(anyInRange(sorted, 5, 6), true);
    assert.equal(anyInRange(sorted, 10, 40), false);
    assert.equal(anyInRange(sorted, 40, 41), true);
    assert.equal(anyInRange(sorted, 41, 1000), false);
    assert.equal(anyInRange([], 0, 1000), false);
  });

  it("original tree hashes of a tree whose root lists a batch of adds equal the from-scratch ones", async () => {
    const s = await crypto.mlsCiphersuite("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519");
    // 9 members (a tree of 16 leaves), Alice's update sets her path (the root), then 7 adds without
    // a path fill leaves 9-15: the root lists all 7.
    const g = await engineGroup(16, 7);
    const u = await engine.commit(g.alice, {});
    const added = await engine.commit(u.state, { add: g.outside.map((k) => k.publicMessage) });
    const tree = treeOf(added.state);
    verifyTreeInvariants(tree);
    const root = tree.parentNode(tree.rootIndex);
    assert.ok(root !== undefined && root.unmergedLeaves.length === 7, "the root lists the batch");
    const exclude = new Set(root.unmergedLeaves);
    // From scratch: the same nodes, those leaves blanked and dropped from every list, no cache.
    const nodes: (TreeNode | undefined)[] = [];
    for (let x = 0; x < tree.width; x++) {
      const n = tree.node(x);
      if (n?.kind === "leaf" && exclude.has(x >> 1)) nodes.push(undefined);
      else if (n?.kind === "parent")
        nodes.push({
          kind: "parent",
          parent: { ...n.parent, unmergedLeaves: n.parent.unmergedLeaves.filter((l) => !exclude.has(l)) },
        });
      else nodes.push(n);
    }
    const scratch = RatchetTree.fromNodes(nodes);
    for (let x = 0; x < tree.width; x++) {
      assert.deepEqual(
        await originalTreeHash(s, tree, x, exclude),
        await treeHash(s, scratch, x),
        `node ${x}`,
      );
    }
  });
});
