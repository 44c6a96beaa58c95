/**
 * A member's current ratchet tree as its store holds it (Parley's persistence format, not an RFC 9420
 * structure): a chain of pieces, the first a whole tree and each later one the nodes a save changed.
 * Before, the whole tree was written after every commit — megabytes at 10,000 members for a commit
 * that changes one path (~14 parent nodes and a leaf) or adds a batch of leaves. Now a commit writes
 * its changes, and a whole tree again only when the changes written since the last whole one have
 * grown past a share of it (CHANGES_SHARE in ../rfc9420-engine/state.ts), so the bytes written per
 * commit stay proportional to what the commit changed.
 *
 *     struct {
 *       uint16 format;                      // 1
 *       uint8 kind;                         // 0 whole, 1 changes
 *       opaque from_tree_hash<V>;           // changes: the tree hash of the tree they apply to; whole: empty
 *       opaque tree_hash<V>;                // the tree hash of the tree this piece makes (§7.8)
 *       uint32 leaf_count;
 *       select (kind) {
 *         case whole:   optional<Node> ratchet_tree<V>;   // §12.4.3.3
 *         case changes: struct { uint32 index; optional<Node> node; } changes<V>;
 *       };
 *       StoredHash hashes<V>;               // tree-hash-store.ts: the parents' cached tree hashes
 *     } TreePiece;
 *
 * The hashes chain the pieces: a load checks that each piece applies to the tree the pieces before it
 * make, and that the last makes the GroupContext's tree_hash, so a piece missing, stale or from
 * another lineage is refused (MlsError "malformed") instead of giving a wrong tree. The tree hashes
 * named are the ones the state already holds (its GroupContexts'); nothing is hashed to write or
 * check them. A piece holds the public tree only, no secret; the store encrypts it like the rest.
 */
import { equalBytes } from "../../encoding/bytes.js";
import { TlsWriter } from "../tls-codec.js";
import { decodeExact, readBytes } from "./codec.js";
import { fail } from "./errors.js";
import { RatchetTree, writeRatchetTree } from "./ratchet-tree.js";
import { rememberTree, storedTree, treeKey } from "./tree-cache.js";
import { applyTreeChanges, writeTreeChanges } from "./tree-diff.js";
import { readTreeHashes } from "./tree-hash-store.js";
import { directPath, isLeaf } from "./tree-math.js";

const FORMAT = 1;
const WHOLE = 0;
const CHANGES = 1;

export interface TreePiece {
  whole: boolean;
  fromTreeHash: Uint8Array;
  treeHash: Uint8Array;
  leafCount: number;
  /** The rest of the piece: the nodes (whole tree or changes) and the hashes. */
  body: Uint8Array;
}

function header(
  w: TlsWriter,
  whole: boolean,
  fromTreeHash: Uint8Array,
  treeHash: Uint8Array,
  leaves: number,
) {
  w.u16(FORMAT)
    .u8(whole ? WHOLE : CHANGES)
    .vector(fromTreeHash)
    .vector(treeHash)
    .u32(leaves);
}

/** The whole tree (its hash `treeHash`), with every parent hash it has cached. */
export function encodeWholePiece(tree: RatchetTree, treeHash: Uint8Array): Uint8Array {
  const w = new TlsWriter(tree.cachedBytes + 40 * tree.width + 256);
  header(w, true, new Uint8Array(0), treeHash, tree.leafCount);
  const bodyStart = w.length;
  writeRatchetTree(w, tree);
  writeHashes(w, tree, (emit) => {
    for (let x = 1; x < tree.width; x += 2) emit(x);
  });
  const bytes = w.finish();
  // The next load of these bytes finds the tree decoded (tree-cache.ts).
  const body = bytes.subarray(bodyStart);
  rememberTree(treeKey(treeHash, body), body.slice(), tree);
  return bytes;
}

/**
 * The nodes of `tree` that differ from `against` (the tree the store holds, hash `fromTreeHash`),
 * and the cached hashes of those nodes' parents and ancestors: every hash a change made stale.
 */
export function encodeChangesPiece(
  tree: RatchetTree,
  against: RatchetTree,
  fromTreeHash: Uint8Array,
  treeHash: Uint8Array,
): Uint8Array {
  const changed = tree.differingNodes(against);
  const w = new TlsWriter(1024 + 256 * changed.length);
  header(w, false, fromTreeHash, treeHash, tree.leafCount);
  writeTreeChanges(w, tree, changed);
  writeHashes(w, tree, (emit) => {
    const parents = new Set<number>();
    for (const i of changed) {
      if (!isLeaf(i)) parents.add(i);
      for (const p of directPath(i, tree.leafCount)) parents.add(p);
    }
    for (const p of [...parents].sort((a, b) => a - b)) emit(p);
  });
  return w.finish();
}

function writeHashes(w: TlsWriter, tree: RatchetTree, each: (emit: (x: number) => void) => void): void {
  w.vectorOf((ww) => {
    each((x) => {
      const h = tree.cachedHash(x);
      if (h !== undefined) ww.u32(x).vector(h);
    });
  });
}

export function readPiece(bytes: Uint8Array): TreePiece {
  return decodeExact(
    "stored tree piece",
    (r) => {
      if (r.u16() !== FORMAT) fail("malformed", "unknown tree piece format");
      const kind = r.u8();
      if (kind !== WHOLE && kind !== CHANGES) fail("malformed", `tree piece kind ${kind}`);
      const fromTreeHash = readBytes(r);
      const treeHash = readBytes(r);
      const leafCount = r.u32();
      if (leafCount < 1 || (leafCount & (leafCount - 1)) !== 0)
        fail("malformed", "tree piece: leaf count not a power of 2");
      if (kind === WHOLE && fromTreeHash.length !== 0)
        fail("malformed", "a whole tree piece applies to nothing");
      const body = r.raw(r.remaining);
      return { whole: kind === WHOLE, fromTreeHash, treeHash, leafCount, body };
    },
    bytes,
  );
}

/**
 * The tree that `pieces` make, lazily (ratchet-tree.ts): the chain is checked now (a whole piece
 * first, each next piece applying to the tree hash the one before made, the last making `treeHash`),
 * and the nodes are decoded on first use. Also the tree the first `held` pieces make (`heldTree`,
 * undefined for 0; decoded with the other), which the tree shares its nodes with, and its hash.
 */
export function treeFromPieces(
  pieces: readonly Uint8Array[],
  treeHash: Uint8Array,
  held: number,
): { tree: RatchetTree; heldTree?: { tree: RatchetTree; treeHash: Uint8Array } } {
  if (pieces.length === 0) fail("malformed", "no stored tree");
  const read = pieces.map(readPiece);
  const first = read[0]!;
  if (!first.whole) fail("malformed", "the stored tree does not start with a whole tree");
  for (let i = 1; i < read.length; i++) {
    const p = read[i]!;
    if (p.whole) fail("malformed", "a whole tree piece inside the chain");
    if (!equalBytes(p.fromTreeHash, read[i - 1]!.treeHash))
      fail("malformed", `stored tree piece ${i} applies to another tree`);
  }
  const last = read[read.length - 1]!;
  if (!equalBytes(last.treeHash, treeHash)) fail("malformed", "the stored tree is not the group's tree");
  let made: RatchetTree[] | undefined;
  const decode = (): RatchetTree[] => {
    if (made !== undefined) return made;
    const trees = [wholeTree(first)];
    for (const p of read.slice(1)) trees.push(applyChanges(trees[trees.length - 1]!, p));
    made = trees;
    return trees;
  };
  const tree = RatchetTree.lazy(last.leafCount, () => decode()[read.length - 1]!.fork());
  if (held <= 0 || held > read.length) return { tree };
  const h = read[held - 1]!;
  return {
    tree,
    heldTree: { tree: RatchetTree.lazy(h.leafCount, () => decode()[held - 1]!.fork()), treeHash: h.treeHash },
  };
}

function wholeTree(p: TreePiece): RatchetTree {
  const t = storedTree(p.treeHash, p.body);
  if (t.leafCount !== p.leafCount) fail("malformed", "stored tree of another leaf count than its piece says");
  return t;
}

/** A changes piece applied to `against`; the hashes it holds cached on the slots the changes made. */
function applyChanges(against: RatchetTree, p: TreePiece): RatchetTree {
  return decodeExact(
    "stored tree changes",
    (r) => {
      const tree = applyTreeChanges(against, p.leafCount, r.vector());
      // After the changes: their ancestors' slots are the tree's own (set replaced them), so the
      // stored hashes land on nothing another tree shares.
      readTreeHashes(r, tree);
      return tree;
    },
    p.body,
  );
}
