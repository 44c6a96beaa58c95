/**
 * The ratchet tree, RFC 9420 §7.1–§7.8 and its wire form §12.4.3.3:
 *
 *     struct { HPKEPublicKey encryption_key; opaque parent_hash<V>; uint32 unmerged_leaves<V>; } ParentNode;
 *     struct { NodeType node_type; select (node_type) { case leaf: LeafNode; case parent: ParentNode; } } Node;
 *     optional<Node> ratchet_tree<V>;     // trailing blank nodes omitted, the last node a non-blank leaf
 *
 *     resolution(x) = [x] ++ unmerged leaves of x   if x is a non-blank parent,
 *                     [x]                           if x is a non-blank leaf,
 *                     []                            if x is a blank leaf,
 *                     resolution(left(x)) ++ resolution(right(x))  otherwise.
 *     filtered direct path = the direct path minus the nodes whose copath child has an empty resolution.
 *
 * The tree is always complete (§7.7: its leaf count is a power of two). Representation, designed so
 * that no operation copies the whole tree: a tree is a shared, never-mutated `base` array of slots plus
 * a small map of changed slots. `fork()` copies only the map; `set` replaces a slot and invalidates
 * the cached hashes of its ancestors (copy-on-write). When the map grows past a fraction of the tree
 * it is folded into a new base, so lookups stay O(1) and the amortized cost of a change stays O(log n).
 *
 * Each slot caches its node's tree hash (§7.8). A tree hash is a pure function of the subtree below
 * the node, and any change below a node replaces that node's slot, so a cached hash is valid for every
 * tree that shares the slot.
 *
 * The wire form is cached too, per chunk of CHUNK nodes (each `optional<Node>`, nodes past the width
 * blank): a member persists its whole tree after every commit, and a commit changes a path — a few
 * chunks — so writing a tree of 10,000 leaves is mostly copying cached bytes. `set` drops the chunk of
 * the node it replaces; extending or shrinking the tree drops them all.
 *
 * A tree may be lazy (`RatchetTree.lazy`): only its leaf count is known, and its nodes are decoded on
 * first use of anything but the leaf count. A stored group state loads its trees so: sending an
 * application message (a post to 5,000 friends) needs the epoch's secrets and the secret tree but no
 * node, and decoding 5,000 leaves costs more than all the rest of it. (Opening one looks up its
 * sender's leaf, and a commit, a Welcome or a member list needs the tree: those decode it.)
 */
import { TlsReader, TlsWriter } from "../tls-codec.js";
import { decodeExact, readBytes, readList, readOptional, writeList, writeOptional } from "./codec.js";
import { fail } from "./errors.js";
import { type LeafNode, readLeafNode, writeLeafNode } from "./leaf-node.js";
import { directPath, isLeaf, left, nodeWidth, right, root, sibling } from "./tree-math.js";

export interface ParentNode {
  encryptionKey: Uint8Array;
  parentHash: Uint8Array;
  /** Leaf indexes, ascending (§7.1). */
  unmergedLeaves: number[];
}

export type TreeNode = { kind: "leaf"; leaf: LeafNode } | { kind: "parent"; parent: ParentNode };

export const NodeType = { leaf: 1, parent: 2 } as const;

export function writeParentNode(w: TlsWriter, p: ParentNode): void {
  w.vector(p.encryptionKey).vector(p.parentHash);
  writeList(w, p.unmergedLeaves, (ww, x) => ww.u32(x));
}

export function readParentNode(r: TlsReader): ParentNode {
  return {
    encryptionKey: readBytes(r),
    parentHash: readBytes(r),
    unmergedLeaves: readList(r, (rr) => rr.u32()),
  };
}

export function writeNode(w: TlsWriter, n: TreeNode): void {
  if (n.kind === "leaf") writeLeafNode(w.u8(NodeType.leaf), n.leaf);
  else writeParentNode(w.u8(NodeType.parent), n.parent);
}

export function readNode(r: TlsReader): TreeNode {
  const t = r.u8();
  if (t === NodeType.leaf) return { kind: "leaf", leaf: readLeafNode(r) };
  if (t === NodeType.parent) return { kind: "parent", parent: readParentNode(r) };
  return fail("malformed", `node_type ${t}`);
}

interface Slot {
  readonly node: TreeNode | undefined;
  /** Cached tree hash of the subtree rooted here; set at most once per slot. */
  hash?: Uint8Array;
}

const BLANK: Slot = Object.freeze({ node: undefined }) as Slot;

const CHUNK_SHIFT = 6;
const CHUNK = 1 << CHUNK_SHIFT;

export class RatchetTree {
  /** A lazy tree's decoder, until its first use (then the fields below are the decoded tree's). */
  private pending: (() => RatchetTree) | undefined;

  private constructor(
    private _base: readonly Slot[],
    private _changes: Map<number, Slot>,
    private leaves: number,
    /** No blank leaf lies below this index (a hint that keeps repeated Adds from rescanning). */
    private _noBlankBelow = 0,
    /** Chunk index → the wire form of its CHUNK nodes (see the file header). */
    private _chunks: Map<number, Uint8Array> = new Map(),
  ) {}

  /**
   * A tree of `leafCount` leaves whose nodes `decode` makes on first use. `decode` must return a tree
   * of that many leaves (MlsError "malformed" otherwise) and throws what it throws at that first use.
   */
  static lazy(leafCount: number, decode: () => RatchetTree): RatchetTree {
    if (leafCount < 1 || (leafCount & (leafCount - 1)) !== 0)
      fail("malformed", "leaf count not a power of 2");
    const t = new RatchetTree([], new Map(), leafCount);
    t.pending = decode;
    return t;
  }

  /** Whether the nodes are decoded (a lazy tree's first use has come). */
  get decoded(): boolean {
    return this.pending === undefined;
  }

  /** Decodes a lazy tree's nodes (once; a no-op for any other tree). */
  private ready(): void {
    const decode = this.pending;
    if (decode === undefined) return;
    const t = decode();
    if (t.leaves !== this.leaves)
      fail("malformed", `stored tree of ${t.leaves} leaves, expected ${this.leaves}`);
    this._base = t.base;
    this._changes = t.changes;
    this._noBlankBelow = t.noBlankBelow;
    this._chunks = t.chunks;
    this.pending = undefined;
  }

  // The node storage, decoded first if the tree is lazy.
  private get base(): readonly Slot[] {
    if (this.pending !== undefined) this.ready();
    return this._base;
  }
  private set base(v: readonly Slot[]) {
    this._base = v;
  }
  private get changes(): Map<number, Slot> {
    if (this.pending !== undefined) this.ready();
    return this._changes;
  }
  private set changes(v: Map<number, Slot>) {
    this._changes = v;
  }
  private get noBlankBelow(): number {
    if (this.pending !== undefined) this.ready();
    return this._noBlankBelow;
  }
  private set noBlankBelow(v: number) {
    this._noBlankBelow = v;
  }
  private get chunks(): Map<number, Uint8Array> {
    if (this.pending !== undefined) this.ready();
    return this._chunks;
  }
  private set chunks(v: Map<number, Uint8Array>) {
    this._chunks = v;
  }

  static fromNodes(nodes: readonly (TreeNode | undefined)[]): RatchetTree {
    if (nodes.length === 0) fail("invalid-tree", "empty ratchet tree");
    if (nodes.length % 2 === 0) fail("invalid-tree", "a ratchet tree has an odd number of nodes");
    let leaves = 1;
    while (nodeWidth(leaves) < nodes.length) leaves *= 2;
    const base: Slot[] = new Array(nodeWidth(leaves));
    for (let i = 0; i < base.length; i++) {
      const node = nodes[i];
      if (node !== undefined && (node.kind === "leaf") !== isLeaf(i)) {
        fail("invalid-tree", `node ${i} has the wrong type for its position`);
      }
      base[i] = node === undefined ? { node: undefined } : { node };
    }
    return new RatchetTree(base, new Map(), leaves);
  }

  static single(leaf: LeafNode): RatchetTree {
    return RatchetTree.fromNodes([{ kind: "leaf", leaf }]);
  }

  get leafCount(): number {
    return this.leaves;
  }
  get width(): number {
    return nodeWidth(this.leaves);
  }
  get rootIndex(): number {
    return root(this.leaves);
  }

  /** A tree that shares everything with this one; changes to either do not affect the other. */
  fork(): RatchetTree {
    return new RatchetTree(
      this.base,
      new Map(this.changes),
      this.leaves,
      this.noBlankBelow,
      new Map(this.chunks),
    );
  }

  /**
   * A tree of `leafCount` leaves that starts as this one (nodes past its width blank) and shares its
   * storage, for rebuilding a stored tree from the changes that separate it from this one.
   */
  derive(leafCount: number): RatchetTree {
    if (leafCount < 1 || (leafCount & (leafCount - 1)) !== 0)
      fail("invalid-tree", "leaf count not a power of 2");
    const t = new RatchetTree(this.base, new Map(this.changes), leafCount);
    const from = nodeWidth(Math.min(leafCount, this.leaves));
    if (leafCount > this.leaves) for (let i = from; i < t.width; i++) t.changes.set(i, { node: undefined });
    else for (const i of t.changes.keys()) if (i >= t.width) t.changes.delete(i);
    return t;
  }

  /**
   * Indexes of this tree's nodes that differ from `other`'s at the same index (by identity: nodes are
   * never mutated, so an unchanged node is the same object; `other` may be wider or narrower). When
   * both share a base, only their change maps can differ: O(changes), not O(width).
   */
  differingNodes(other: RatchetTree): number[] {
    const width = this.width;
    let candidates: Iterable<number>;
    if (this.base === other.base) {
      const set = new Set<number>();
      for (const i of this.changes.keys()) if (i < width) set.add(i);
      for (const i of other.changes.keys()) if (i < width) set.add(i);
      for (let i = other.width; i < width; i++) set.add(i);
      candidates = [...set].sort((a, b) => a - b);
    } else {
      candidates = Array.from({ length: width }, (_, i) => i);
    }
    const out: number[] = [];
    for (const i of candidates) if (this.node(i) !== other.node(i)) out.push(i);
    return out;
  }

  private slot(i: number): Slot {
    return this.changes.get(i) ?? this.base[i] ?? BLANK;
  }

  node(i: number): TreeNode | undefined {
    if (i < 0 || i >= this.width) return undefined;
    return this.slot(i).node;
  }

  leaf(leafIndex: number): LeafNode | undefined {
    const n = this.node(2 * leafIndex);
    return n?.kind === "leaf" ? n.leaf : undefined;
  }

  parentNode(i: number): ParentNode | undefined {
    const n = this.node(i);
    return n?.kind === "parent" ? n.parent : undefined;
  }

  cachedHash(i: number): Uint8Array | undefined {
    return this.slot(i).hash;
  }

  cacheHash(i: number, hash: Uint8Array): void {
    let s = this.changes.get(i) ?? this.base[i];
    if (s === undefined || s === BLANK) {
      s = { node: undefined };
      this.changes.set(i, s);
    }
    s.hash = hash;
  }

  /** Replaces node i (undefined blanks it) and invalidates the cached hashes above it. */
  set(i: number, node: TreeNode | undefined): void {
    if (i < 0 || i >= this.width) fail("invalid-tree", `node ${i} outside the tree`);
    if (node !== undefined && (node.kind === "leaf") !== isLeaf(i))
      fail("invalid-tree", "node type mismatch");
    this.changes.set(i, { node });
    this.chunks.delete(i >> CHUNK_SHIFT);
    if (node === undefined && isLeaf(i)) this.noBlankBelow = Math.min(this.noBlankBelow, i >> 1);
    for (const p of directPath(i, this.leaves)) this.changes.set(p, { node: this.slot(p).node });
    this.maybeCompact();
  }

  setLeaf(leafIndex: number, leaf: LeafNode | undefined): void {
    this.set(2 * leafIndex, leaf === undefined ? undefined : { kind: "leaf", leaf });
  }

  setParent(i: number, parent: ParentNode | undefined): void {
    this.set(i, parent === undefined ? undefined : { kind: "parent", parent });
  }

  /** §7.7: doubles the tree (new nodes blank); the old root becomes the new root's left child. */
  extend(): void {
    this.ready();
    const oldWidth = this.width;
    this.leaves *= 2;
    this.chunks.clear();
    for (let i = oldWidth; i < this.width; i++) this.changes.set(i, { node: undefined });
    this.maybeCompact();
  }

  /** §12.3 Remove: halve the tree while its right half is entirely blank (at least one leaf stays). */
  truncate(): void {
    this.ready();
    let shrunk = false;
    while (this.leaves > 1) {
      const half = this.leaves / 2;
      let blank = true;
      for (let l = half; l < this.leaves && blank; l++) if (this.leaf(l) !== undefined) blank = false;
      if (!blank) break;
      const newWidth = nodeWidth(half);
      for (let i = newWidth; i < this.width; i++) this.changes.delete(i);
      this.leaves = half;
      shrunk = true;
    }
    // Fold the changes only when the tree shrank (slots past the new width go); otherwise a Remove
    // would copy the whole tree.
    if (shrunk) {
      this.chunks.clear();
      this.compact();
    }
    this.noBlankBelow = Math.min(this.noBlankBelow, this.leaves);
  }

  private maybeCompact(): void {
    if (this.changes.size > 64 && this.changes.size * 8 > this.width) this.compact();
  }

  private compact(): void {
    const width = this.width;
    const base: Slot[] = new Array(width);
    for (let i = 0; i < width; i++) base[i] = this.changes.get(i) ?? this.base[i] ?? { node: undefined };
    this.base = base;
    this.changes = new Map();
  }

  /**
   * Writes nodes [0, end) as consecutive `optional<Node>` (the content of the wire form's vector),
   * from the chunk cache where whole chunks are written.
   */
  writeNodes(w: TlsWriter, end: number): void {
    const full = end >> CHUNK_SHIFT;
    for (let c = 0; c < full; c++) {
      let bytes = this.chunks.get(c);
      if (bytes === undefined) {
        const cw = new TlsWriter(4096);
        for (let i = c * CHUNK; i < (c + 1) * CHUNK; i++) writeOptional(cw, this.node(i), writeNode);
        bytes = cw.finish();
        this.chunks.set(c, bytes);
      }
      w.raw(bytes);
    }
    for (let i = full * CHUNK; i < end; i++) writeOptional(w, this.node(i), writeNode);
  }

  /** Chunks read from a wire form that encodes exactly this tree's nodes (readRatchetTree). */
  seedChunks(chunks: Map<number, Uint8Array>): void {
    this.chunks = chunks;
  }

  /** Bytes of the cached chunks (a capacity hint for writers of the whole tree). */
  get cachedBytes(): number {
    let n = 0;
    for (const b of this.chunks.values()) n += b.length;
    return n;
  }

  /** The leftmost blank leaf, or leafCount if there is none (§12.1.1 Add). */
  firstBlankLeaf(): number {
    for (let l = this.noBlankBelow; l < this.leaves; l++) {
      if (this.leaf(l) === undefined) {
        this.noBlankBelow = l;
        return l;
      }
    }
    this.noBlankBelow = this.leaves;
    return this.leaves;
  }

  *nonBlankLeaves(): Generator<[number, LeafNode]> {
    for (let l = 0; l < this.leaves; l++) {
      const leaf = this.leaf(l);
      if (leaf !== undefined) yield [l, leaf];
    }
  }

  /** Resolution of node x (§4.1.1), optionally without some leaves (for §7.9.2's original subtrees). */
  resolution(x: number, exclude?: ReadonlySet<number>): number[] {
    const out: number[] = [];
    const walk = (y: number): void => {
      const n = this.node(y);
      if (n?.kind === "leaf") {
        if (!exclude?.has(y >> 1)) out.push(y);
      } else if (n?.kind === "parent") {
        out.push(y);
        for (const l of n.parent.unmergedLeaves) if (!exclude?.has(l)) out.push(2 * l);
      } else if (!isLeaf(y)) {
        walk(left(y));
        walk(right(y));
      }
    };
    walk(x);
    return out;
  }

  /** Whether the resolution of x is empty, without building it. */
  private hasEmptyResolution(x: number): boolean {
    const n = this.node(x);
    if (n !== undefined) return false;
    if (isLeaf(x)) return true;
    return this.hasEmptyResolution(left(x)) && this.hasEmptyResolution(right(x));
  }

  /** The filtered direct path of leaf `leafIndex` (§4.1.2), as node indexes, bottom-up. */
  filteredDirectPath(leafIndex: number): number[] {
    const x = 2 * leafIndex;
    const path = directPath(x, this.leaves);
    const out: number[] = [];
    let child = x;
    for (const p of path) {
      if (!this.hasEmptyResolution(sibling(child, this.leaves))) out.push(p);
      child = p;
    }
    return out;
  }

  /** The copath child of each node of the filtered direct path (same order). */
  filteredCopath(leafIndex: number): number[] {
    const x = 2 * leafIndex;
    const out: number[] = [];
    let child = x;
    for (const p of directPath(x, this.leaves)) {
      const s = sibling(child, this.leaves);
      if (!this.hasEmptyResolution(s)) out.push(s);
      child = p;
    }
    return out;
  }
}

/** The wire form (§12.4.3.3): trailing blanks omitted. */
export function writeRatchetTree(w: TlsWriter, tree: RatchetTree): void {
  let last = tree.width - 1;
  while (last >= 0 && tree.node(last) === undefined) last--;
  w.vectorOf((inner) => tree.writeNodes(inner, last + 1));
}

export function encodeRatchetTree(tree: RatchetTree): Uint8Array {
  const w = new TlsWriter(tree.cachedBytes + 4096);
  writeRatchetTree(w, tree);
  return w.finish();
}

/** §12.4.3.3: the last node must be a non-blank leaf (so the encoding is canonical). */
export function readRatchetTree(r: TlsReader): RatchetTree {
  // The nodes as read are their canonical encoding (presence octets 0/1, minimal varints, leaves'
  // exact bytes): each full chunk's bytes seed the tree's chunk cache.
  const bytes = r.vector().slice();
  const inner = new TlsReader(bytes, true);
  const nodes: (TreeNode | undefined)[] = [];
  const chunks = new Map<number, Uint8Array>();
  let chunkStart = 0;
  while (inner.remaining > 0) {
    nodes.push(readOptional(inner, readNode));
    if (nodes.length % CHUNK === 0) {
      chunks.set(nodes.length / CHUNK - 1, bytes.subarray(chunkStart, inner.position));
      chunkStart = inner.position;
    }
  }
  if (nodes.length === 0 || nodes[nodes.length - 1] === undefined) {
    fail("invalid-tree", "a ratchet tree must end with a non-blank node");
  }
  const tree = RatchetTree.fromNodes(nodes);
  tree.seedChunks(chunks);
  return tree;
}

export const decodeRatchetTree = (bytes: Uint8Array): RatchetTree =>
  decodeExact("ratchet tree", readRatchetTree, bytes);
