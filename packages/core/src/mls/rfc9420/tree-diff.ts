/**
 * A ratchet tree stored as the nodes that separate it from another tree (Parley's persistence format,
 * not an RFC 9420 structure). A member keeps the trees of a few past epochs for late application
 * messages (../rfc9420-engine/state.ts); consecutive epochs differ by a commit's paths and leaves, so
 * each past tree is written as its differences from the next newer one instead of whole — at 10,000
 * members a whole tree is megabytes, a commit's difference a few kilobytes.
 *
 *     struct { uint32 leaf_count; struct { uint32 index; optional<Node> node; } changes<V>; } TreeDiff;
 */
import type { TlsReader, TlsWriter } from "../tls-codec.js";
import { decodeExact, readBytes, readOptional, writeList, writeOptional } from "./codec.js";
import { fail } from "./errors.js";
import { RatchetTree, readNode, type TreeNode, writeNode } from "./ratchet-tree.js";
import { isLeaf, nodeWidth } from "./tree-math.js";

/**
 * Differences already encoded (or read), by the tree they make and the tree they apply to. After a
 * commit every past epoch but the newest keeps both its tree and the next newer one, so its stored
 * differences are written again as they were — without decoding the past tree (lazy since the load)
 * or comparing it node by node with its neighbour (4 past epochs: 13 ms of a save at 10,000 members).
 */
const encoded = new WeakMap<RatchetTree, { against: RatchetTree; bytes: Uint8Array }>();

export function writeTreeDiff(w: TlsWriter, tree: RatchetTree, against: RatchetTree): void {
  const hit = encoded.get(tree);
  if (hit !== undefined && hit.against === against) {
    w.raw(hit.bytes);
    return;
  }
  const start = w.length;
  w.u32(tree.leafCount);
  writeTreeChanges(w, tree, tree.differingNodes(against));
  encoded.set(tree, { against, bytes: w.view().slice(start) });
}

/** `changes<V>` (struct { uint32 index; optional<Node> node; }): the nodes of `tree` at `indexes`. */
export function writeTreeChanges(w: TlsWriter, tree: RatchetTree, indexes: readonly number[]): void {
  writeList(w, indexes, (ww, i) => {
    ww.u32(i);
    writeOptional(ww, tree.node(i), writeNode);
  });
}

/**
 * The content of a stored `changes<V>` applied to a tree of `leafCount` leaves that starts as
 * `against` (sharing its storage). Each index must lie inside that tree and each node be of its
 * position's type: MlsError "malformed" otherwise.
 */
export function applyTreeChanges(against: RatchetTree, leafCount: number, content: Uint8Array): RatchetTree {
  const changes = decodeExact(
    "stored tree changes",
    (rr) => {
      const out: (readonly [number, TreeNode | undefined])[] = [];
      while (rr.remaining > 0) out.push([rr.u32(), readOptional(rr, readNode)] as const);
      return out;
    },
    content,
  );
  const width = nodeWidth(leafCount);
  for (const [i, node] of changes) {
    if (i >= width) fail("malformed", `stored tree change at node ${i}, outside the tree`);
    if (node !== undefined && (node.kind === "leaf") !== isLeaf(i))
      fail("malformed", `stored tree change at node ${i} has the wrong type for its position`);
  }
  const tree = against.derive(leafCount);
  for (const [i, node] of changes) tree.set(i, node);
  return tree;
}

/**
 * The tree `against` with the stored differences applied. Lazy (ratchet-tree.ts) like `against`: the
 * differences are read, checked and applied when the tree is first used (a late message of that
 * epoch, or the next commit's save) — not at every load: a member loads its state for each message
 * it receives, and the past epochs' differences after commits that added 50 people each were 200
 * leaves to decode per load (the chaos bench's setup at 500 members). Malformed bytes are refused
 * then, as MlsError "malformed", as a lazy tree's are.
 */
export function readTreeDiff(r: TlsReader, against: RatchetTree): RatchetTree {
  const start = r.position;
  const leafCount = r.u32();
  const stored = readBytes(r);
  const tree = RatchetTree.lazy(leafCount, () => applyTreeChanges(against, leafCount, stored));
  encoded.set(tree, { against, bytes: r.copy(start, r.position) });
  return tree;
}
