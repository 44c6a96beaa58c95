/**
 * Applying proposals to the ratchet tree, RFC 9420 §12.1.1–§12.1.3 (with §7.7/§7.8's growth rules):
 *
 *     Add(leaf):     L = leftmost blank leaf, or the tree doubles and L = the first new leaf;
 *                    L joins unmerged_leaves of every non-blank parent on its direct path; leaf L = leaf.
 *     Update(leaf):  the sender's leaf is replaced; every node on its direct path is blanked.
 *     Remove(i):     leaf i and every node on its direct path are blanked; the tree is then truncated
 *                    while its right half is blank.
 *
 * Each touches O(log n) nodes of a fork, never the whole tree.
 */
import { fail } from "./errors.js";
import type { LeafNode } from "./leaf-node.js";
import { type Proposal, ProposalType } from "./proposals.js";
import type { RatchetTree } from "./ratchet-tree.js";
import { directPath } from "./tree-math.js";

/**
 * Appending L keeps every unmerged_leaves list in increasing order, as §7.1 requires (the order
 * matters: the tree hash serializes the list, §7.8, and parent hashes cover sibling tree hashes,
 * §7.9): a leaf M > L already listed at P was added while every leaf left of it, L included, was
 * non-blank (Adds take the leftmost blank leaf), so L can be added again only after a Remove of L —
 * which blanks P (P is on L's direct path), and a blanked or path-set P starts with an empty list.
 * A received tree whose lists are out of order is refused on join (tree-invariants.ts).
 */
export function addLeaf(tree: RatchetTree, leaf: LeafNode): number {
  let l = tree.firstBlankLeaf();
  if (l === tree.leafCount) {
    tree.extend();
    l = tree.firstBlankLeaf();
  }
  for (const p of directPath(2 * l, tree.leafCount)) {
    const node = tree.parentNode(p);
    if (node !== undefined) tree.setParent(p, { ...node, unmergedLeaves: [...node.unmergedLeaves, l] });
  }
  tree.setLeaf(l, leaf);
  return l;
}

export function blankPath(tree: RatchetTree, leafIndex: number): void {
  for (const p of directPath(2 * leafIndex, tree.leafCount))
    if (tree.node(p) !== undefined) tree.set(p, undefined);
}

export function updateLeaf(tree: RatchetTree, leafIndex: number, leaf: LeafNode): void {
  if (tree.leaf(leafIndex) === undefined) fail("invalid-proposal", `update of blank leaf ${leafIndex}`);
  tree.setLeaf(leafIndex, leaf);
  blankPath(tree, leafIndex);
}

export function removeLeaf(tree: RatchetTree, leafIndex: number): void {
  if (leafIndex >= tree.leafCount || tree.leaf(leafIndex) === undefined) {
    fail("invalid-proposal", `remove of blank or absent leaf ${leafIndex}`);
  }
  tree.setLeaf(leafIndex, undefined);
  blankPath(tree, leafIndex);
  tree.truncate();
}

/** Applies one Add, Update or Remove (others do not touch the tree). Returns the added leaf index. */
export function applyProposalToTree(tree: RatchetTree, p: Proposal, sender: number): number | undefined {
  if (p.type === ProposalType.add) return addLeaf(tree, p.keyPackage.leafNode);
  if (p.type === ProposalType.update) updateLeaf(tree, sender, p.leafNode);
  else if (p.type === ProposalType.remove) removeLeaf(tree, p.removed);
  return undefined;
}
