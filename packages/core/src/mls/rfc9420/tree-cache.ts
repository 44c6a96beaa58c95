/**
 * Decoded ratchet trees by their stored bytes (group-state-codec.ts: the tree and its cached hashes,
 * as a state's epoch part holds them). A member that reads a run of commits loads its state, applies
 * one commit and saves it again for each: without this, every load decoded the whole tree once more —
 * O(N) per commit, most of the work of catching up on a large group (a phone back after two weeks,
 * or hundreds of in-process members in the chaos bench). A saved tree is remembered with the bytes it
 * was written as, and a load of those same bytes forks it instead of decoding them.
 *
 * Sound because the tree is a pure function of those bytes (a hit compares them in full; the key only
 * picks the candidate), and trees are copy-on-write: a fork shares only never-mutated slots, whose
 * cached hashes are valid for every tree holding them (ratchet-tree.ts). The bytes are the public tree
 * only, no secret of the state. Few entries: a member's next load follows its save at once.
 */
import { equalBytes, toHex } from "../../encoding/bytes.js";
import { decodeExact } from "./codec.js";
import { type RatchetTree, readRatchetTree } from "./ratchet-tree.js";
import { readTreeHashes } from "./tree-hash-store.js";

const MAX_TREES = 8;
const trees = new Map<string, { bytes: Uint8Array; tree: RatchetTree }>();

/** The cache key: the GroupContext's tree hash (which names the tree) and the stored length. */
export const treeKey = (treeHash: Uint8Array, bytes: Uint8Array) => `${toHex(treeHash)}:${bytes.length}`;

/** A tree stored as exactly `bytes`, if one was remembered: a fork of it, the caller's to change. */
export function cachedTree(key: string, bytes: Uint8Array): RatchetTree | undefined {
  const hit = trees.get(key);
  if (hit === undefined || !sameBytes(hit.bytes, bytes)) return undefined;
  trees.delete(key);
  trees.set(key, hit);
  return hit.tree.fork();
}

/**
 * equalBytes, four bytes at a time where both are aligned (public bytes: no need for constant time).
 * A state is loaded for every message received, and at 500 members its tree is ~1 MB.
 */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  if (a.byteOffset % 4 !== 0 || b.byteOffset % 4 !== 0) return equalBytes(a, b);
  const words = a.length >>> 2;
  const wa = new Uint32Array(a.buffer, a.byteOffset, words);
  const wb = new Uint32Array(b.buffer, b.byteOffset, words);
  for (let i = 0; i < words; i++) if (wa[i] !== wb[i]) return false;
  for (let i = words * 4; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** `tree` was stored as `bytes` (a copy nobody else holds). */
export function rememberTree(key: string, bytes: Uint8Array, tree: RatchetTree): void {
  trees.delete(key);
  trees.set(key, { bytes, tree: tree.fork() });
  if (trees.size > MAX_TREES) trees.delete(trees.keys().next().value!);
}

/**
 * The tree stored as `bytes` (its wire form, then its cached parent hashes: tree-hash-store.ts) whose
 * tree hash is `treeHash`: a fork of the one remembered for those bytes, or decoded and remembered.
 */
export function storedTree(treeHash: Uint8Array, bytes: Uint8Array): RatchetTree {
  const key = treeKey(treeHash, bytes);
  const cached = cachedTree(key, bytes);
  if (cached !== undefined) return cached;
  const t = decodeExact(
    "stored ratchet tree",
    (r) => {
      const decoded = readRatchetTree(r);
      readTreeHashes(r, decoded);
      return decoded;
    },
    bytes,
  );
  rememberTree(key, bytes.slice(), t);
  return t;
}
