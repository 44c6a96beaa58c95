/**
 * Structural checks of a received ratchet tree, RFC 9420 §12.4.3.1 ("verify the integrity of the
 * ratchet tree") besides tree hash (§7.8), parent hashes (§7.9.2) and leaves (§7.3):
 *
 *     for each non-blank parent node P, for each leaf index L in P.unmerged_leaves:
 *       L is a non-blank leaf and a descendant of P, and every non-blank intermediate node
 *       between L and P lists L in its unmerged_leaves;
 *     P.unmerged_leaves is sorted in increasing order (§7.1: a MUST; the tree hash covers the list);
 *     encryption keys of non-blank nodes are pairwise distinct (§7.3, §12.4.3.1).
 *
 * Only nodes BETWEEN L and P are constrained: ancestors above P may have been refreshed by a later
 * path that encrypted to L, and legitimately do not list it (§7.5 empties the list of every node a
 * path sets; the RFC's tree-validation vector "a tree with unmerged leaves" has node 11 = [7] under a
 * non-blank root = []). ts-mls rc.10 demands more — every non-blank node on L's whole direct path
 * with a list equal to P's — and so refuses such valid trees (test: mls-engine-differential, "a
 * strict joiner on a grown tree").
 */
import { toHex } from "../../encoding/bytes.js";
import { fail } from "./errors.js";
import type { RatchetTree } from "./ratchet-tree.js";
import { anyInRange } from "./tree-hash.js";
import { isInSubtree, parent } from "./tree-math.js";

export function verifyTreeInvariants(tree: RatchetTree): void {
  const keys = new Set<string>();
  // First every list's order, so that the membership checks below can binary-search any list.
  for (let x = 1; x < tree.width; x += 2) {
    const unmerged = tree.parentNode(x)?.unmergedLeaves ?? [];
    for (let i = 1; i < unmerged.length; i++) {
      if (unmerged[i - 1]! >= unmerged[i]!) {
        fail("invalid-tree", `node ${x}: unmerged_leaves [${unmerged}] not in strictly increasing order`);
      }
    }
  }
  for (let x = 0; x < tree.width; x++) {
    const n = tree.node(x);
    if (n === undefined) continue;
    const key = toHex(n.kind === "leaf" ? n.leaf.encryptionKey : n.parent.encryptionKey);
    if (keys.has(key)) fail("invalid-tree", `node ${x} reuses an encryption key`);
    keys.add(key);
    if (n.kind !== "parent") continue;
    for (const l of n.parent.unmergedLeaves) {
      if (l >= tree.leafCount || tree.leaf(l) === undefined || !isInSubtree(2 * l, x)) {
        fail("invalid-tree", `node ${x}: unmerged leaf ${l} is not a non-blank descendant`);
      }
      for (let y = parent(2 * l, tree.leafCount); y !== x; y = parent(y, tree.leafCount)) {
        const between = tree.parentNode(y);
        // Lists sorted (checked above): a lookup is a binary search, not a scan of a list that may
        // hold a whole batch of adds.
        if (between !== undefined && !anyInRange(between.unmergedLeaves, l, l + 1)) {
          fail("invalid-tree", `node ${y} between leaf ${l} and node ${x} does not list it as unmerged`);
        }
      }
    }
  }
}
