/**
 * An index of a tree's leaves for §7.3's group-wide leaf checks (encryption_key and signature_key
 * unique among the leaves; credential types supported both ways), so a commit adding k members to a
 * group of N costs O(N + k) instead of a scan of every leaf per added leaf (O(N·k): a million key
 * comparisons for 100 adds at 10,000 members). Built once per proposal list and kept up to date as
 * the list's Updates, Removes and Adds change the tree.
 */
import { equalBytes } from "../../encoding/bytes.js";
import { fail } from "./errors.js";
import type { LeafNode } from "./leaf-node.js";
import type { RatchetTree } from "./ratchet-tree.js";

/** A 32-bit digest of a public key's first bytes (keys are random: collisions are rare and checked). */
function keyTag(k: Uint8Array): number {
  let h = k.length;
  for (let i = 0; i < 4 && i < k.length; i++) h = (h * 257 + k[i]!) | 0;
  return h;
}

/** Public key → leaves holding it, by tag, each candidate compared in full. */
class KeyMap {
  private readonly byTag = new Map<number, number[]>();

  constructor(private readonly keyOf: (l: number) => Uint8Array | undefined) {}

  add(key: Uint8Array, l: number): void {
    const tag = keyTag(key);
    const list = this.byTag.get(tag);
    if (list === undefined) this.byTag.set(tag, [l]);
    else list.push(l);
  }

  remove(key: Uint8Array, l: number): void {
    const list = this.byTag.get(keyTag(key));
    const i = list?.indexOf(l) ?? -1;
    if (i >= 0) list!.splice(i, 1);
  }

  /** A leaf holding `key`, other than those `skip` says, or undefined. */
  find(key: Uint8Array, skip: (l: number) => boolean): number | undefined {
    for (const l of this.byTag.get(keyTag(key)) ?? []) {
      const k = this.keyOf(l);
      if (k !== undefined && !skip(l) && equalBytes(k, key)) return l;
    }
    return undefined;
  }
}

export class LeafIndex {
  private readonly leaves = new Map<number, LeafNode>();
  private readonly encryption = new KeyMap((l) => this.leaves.get(l)?.encryptionKey);
  private readonly signature = new KeyMap((l) => this.leaves.get(l)?.signatureKey);
  /** Credential type → leaves using it. */
  private readonly typeUsers = new Map<number, Set<number>>();
  /** Credential type → leaves whose capabilities lack it; per type, built when first asked. */
  private readonly lacking = new Map<number, Set<number>>();

  constructor(tree: RatchetTree) {
    for (let l = 0; l < tree.leafCount; l++) {
      const leaf = tree.leaf(l);
      if (leaf !== undefined) this.add(l, leaf);
    }
  }

  add(l: number, leaf: LeafNode): void {
    this.remove(l);
    this.leaves.set(l, leaf);
    this.encryption.add(leaf.encryptionKey, l);
    this.signature.add(leaf.signatureKey, l);
    let users = this.typeUsers.get(leaf.credential.type);
    if (users === undefined) {
      users = new Set<number>();
      this.typeUsers.set(leaf.credential.type, users);
    }
    users.add(l);
    for (const [type, set] of this.lacking) if (!leaf.capabilities.credentials.includes(type)) set.add(l);
  }

  remove(l: number): void {
    const leaf = this.leaves.get(l);
    if (leaf === undefined) return;
    this.encryption.remove(leaf.encryptionKey, l);
    this.signature.remove(leaf.signatureKey, l);
    this.leaves.delete(l);
    this.typeUsers.get(leaf.credential.type)?.delete(l);
    for (const set of this.lacking.values()) set.delete(l);
  }

  private lackingType(type: number): Set<number> {
    let set = this.lacking.get(type);
    if (set === undefined) {
      set = new Set();
      for (const [l, leaf] of this.leaves) if (!leaf.capabilities.credentials.includes(type)) set.add(l);
      this.lacking.set(type, set);
    }
    return set;
  }

  /**
   * The checks of leaf-validation.ts's scan, with the same messages: `replaces` is the leaf this one
   * replaces (must change its encryption key), `ignore` leaves leaving in the same commit.
   */
  check(leaf: LeafNode, replaces: number | undefined, ignore: ReadonlySet<number> | undefined): void {
    const skip = (l: number) => l === replaces || ignore?.has(l) === true;
    if (replaces !== undefined) {
      const old = this.leaves.get(replaces);
      if (old !== undefined && equalBytes(old.encryptionKey, leaf.encryptionKey))
        fail("invalid-leaf", "encryption_key not changed");
    }
    const e = this.encryption.find(leaf.encryptionKey, skip);
    if (e !== undefined) fail("invalid-leaf", `encryption_key of leaf ${e} reused`);
    const s = this.signature.find(leaf.signatureKey, skip);
    if (s !== undefined) fail("invalid-leaf", `signature_key of leaf ${s} reused`);
    // This leaf supports every credential type in use (few types: O(types)), and no other leaf lacks
    // this leaf's type (a set kept per type).
    for (const [type, users] of this.typeUsers) {
      if (leaf.capabilities.credentials.includes(type)) continue;
      for (const l of users)
        if (!skip(l)) fail("invalid-leaf", `credential type ${type} in use but not supported`);
    }
    for (const l of this.lackingType(leaf.credential.type)) {
      if (!skip(l))
        fail("invalid-leaf", `leaf ${l} does not support credential type ${leaf.credential.type}`);
    }
  }
}
