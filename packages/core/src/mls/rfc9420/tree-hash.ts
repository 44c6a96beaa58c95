/**
 * Tree hashes, RFC 9420 §7.8:
 *
 *     struct { uint32 leaf_index; optional<LeafNode> leaf_node; } LeafNodeHashInput;
 *     struct { optional<ParentNode> parent_node; opaque left_hash<V>; opaque right_hash<V>; } ParentNodeHashInput;
 *     struct { NodeType node_type; select (node_type) { case leaf: LeafNodeHashInput;
 *                                                     case parent: ParentNodeHashInput; } } TreeHashInput;
 *     tree_hash(x) = Hash(TreeHashInput(x))
 *
 * Hashes are cached per node in the tree (see ratchet-tree.ts), so after a change only the nodes on
 * the changed paths are hashed again: a commit at N leaves costs O(log N) digests, not O(N).
 *
 * §7.9.2's "original" tree hash of a subtree — with some leaves blanked and removed from every
 * unmerged_leaves list — reuses the cache for every node with no excluded leaf below it.
 */
import { TlsWriter } from "../tls-codec.js";
import { writeOptional } from "./codec.js";
import { encodeLeafNode } from "./leaf-node.js";
import { NodeType, type ParentNode, type RatchetTree, writeParentNode } from "./ratchet-tree.js";
import type { Suite } from "./suite.js";
import { isLeaf, leafRange, left, right } from "./tree-math.js";

function leafHashInput(leafIndex: number, leafBytes: Uint8Array | undefined): Uint8Array {
  const w = new TlsWriter((leafBytes?.length ?? 0) + 8).u8(NodeType.leaf).u32(leafIndex);
  if (leafBytes === undefined) w.u8(0);
  else w.u8(1).raw(leafBytes);
  return w.view();
}

function parentHashInput(p: ParentNode | undefined, leftHash: Uint8Array, rightHash: Uint8Array): Uint8Array {
  const w = new TlsWriter(256 + 4 * (p?.unmergedLeaves.length ?? 0)).u8(NodeType.parent);
  writeOptional(w, p, writeParentNode);
  return w.vector(leftHash).vector(rightHash).view();
}

type DigestSync = (data: Uint8Array) => Uint8Array;

/**
 * A provider whose digest is synchronous underneath may say so (node provider: `digestSync`): hashing
 * a whole tree — a joiner's 2N nodes — then costs no promise per node.
 */
const digestSyncOf = (suite: Suite): DigestSync | undefined =>
  (suite.hash as { digestSync?: DigestSync }).digestSync;

function treeHashSync(digest: DigestSync, tree: RatchetTree, x: number): Uint8Array {
  const cached = tree.cachedHash(x);
  if (cached !== undefined) return cached;
  let h: Uint8Array;
  if (isLeaf(x)) {
    const leaf = tree.leaf(x >> 1);
    h = digest(leafHashInput(x >> 1, leaf === undefined ? undefined : encodeLeafNode(leaf)));
  } else {
    const l = treeHashSync(digest, tree, left(x));
    const r = treeHashSync(digest, tree, right(x));
    h = digest(parentHashInput(tree.parentNode(x), l, r));
  }
  tree.cacheHash(x, h);
  return h;
}

/** tree_hash(x), from the cache where possible. */
export async function treeHash(suite: Suite, tree: RatchetTree, x: number): Promise<Uint8Array> {
  const sync = digestSyncOf(suite);
  if (sync !== undefined) return treeHashSync(sync, tree, x);
  const cached = tree.cachedHash(x);
  if (cached !== undefined) return cached;
  let h: Uint8Array;
  if (isLeaf(x)) {
    const leaf = tree.leaf(x >> 1);
    h = await suite.hash.digest(leafHashInput(x >> 1, leaf === undefined ? undefined : encodeLeafNode(leaf)));
  } else {
    const [l, r] = await Promise.all([treeHash(suite, tree, left(x)), treeHash(suite, tree, right(x))]);
    h = await suite.hash.digest(parentHashInput(tree.parentNode(x), l, r));
  }
  tree.cacheHash(x, h);
  return h;
}

export const rootTreeHash = (suite: Suite, tree: RatchetTree): Promise<Uint8Array> =>
  treeHash(suite, tree, tree.rootIndex);

/** The tree hash of subtree x with the leaves in `exclude` blanked and dropped from unmerged lists. */
export function originalTreeHash(
  suite: Suite,
  tree: RatchetTree,
  x: number,
  exclude: ReadonlySet<number>,
): Promise<Uint8Array> {
  if (exclude.size === 0) return treeHash(suite, tree, x);
  return originalHash(
    suite,
    tree,
    x,
    exclude,
    [...exclude].sort((a, b) => a - b),
  );
}

/**
 * Whether a sorted list holds a value in [first, end): a binary search, not a scan — a node's
 * unmerged_leaves can hold a whole batch of adds (an add-only commit has no path to clear them), and
 * the check runs for every node of the subtrees hashed again.
 */
export function anyInRange(sorted: readonly number[], first: number, end: number): boolean {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < first) lo = mid + 1;
    else hi = mid;
  }
  return lo < sorted.length && sorted[lo]! < end;
}

async function originalHash(
  suite: Suite,
  tree: RatchetTree,
  x: number,
  exclude: ReadonlySet<number>,
  sorted: readonly number[],
): Promise<Uint8Array> {
  const { first, end } = leafRange(x);
  if (!anyInRange(sorted, first, end)) return treeHash(suite, tree, x);
  if (isLeaf(x)) return suite.hash.digest(leafHashInput(x >> 1, undefined));
  const p = tree.parentNode(x);
  const filtered =
    p === undefined ? undefined : { ...p, unmergedLeaves: p.unmergedLeaves.filter((l) => !exclude.has(l)) };
  const [l, r] = await Promise.all([
    originalHash(suite, tree, left(x), exclude, sorted),
    originalHash(suite, tree, right(x), exclude, sorted),
  ]);
  return suite.hash.digest(parentHashInput(filtered, l, r));
}
