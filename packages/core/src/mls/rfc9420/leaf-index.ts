/**
 * An index of a tree's leaves for §7.3's group-wide leaf checks (encryption_key and signature_key
 * unique among the leaves; credential types supported both ways), so a commit adding k members to a
 * group of N costs O(N + k) instead of a scan of every leaf per added leaf (O(N·k): a million key
 * comparisons for 100 adds at 10,000 members). Built once per proposal list and kept up to date as
 * the list's Updates, Removes and Adds change the tree.
 */
import { toHex } from "../../encoding/bytes.js";
import { fail } from "./errors.js";
import type { LeafNode } from "./leaf-node.js";
import type { RatchetTree } from "./ratchet-tree.js";

export class LeafIndex {
  private readonly encryption = new Map<string, number>();
  private readonly signature = new Map<string, number>();
  private readonly leaves = new Map<number, LeafNode>();
  /** Credential type → leaves using it. */
  private readonly typeUsers = new Map<number, Set<number>>();
  /** Credential type → leaves whose capabilities lack it; per type, built when first asked. */
  private readonly lacking = new Map<number, Set<number>>();

  constructor(tree: RatchetTree) {
    for (const [l, leaf] of tree.nonBlankLeaves()) this.add(l, leaf);
  }

  add(l: number, leaf: LeafNode): void {
    this.remove(l);
    this.leaves.set(l, leaf);
    this.encryption.set(toHex(leaf.encryptionKey), l);
    this.signature.set(toHex(leaf.signatureKey), l);
    const users = this.typeUsers.get(leaf.credential.type) ?? new Set<number>();
    this.typeUsers.set(leaf.credential.type, users);
    users.add(l);
    for (const [type, set] of this.lacking) if (!leaf.capabilities.credentials.includes(type)) set.add(l);
  }

  remove(l: number): void {
    const leaf = this.leaves.get(l);
    if (leaf === undefined) return;
    this.leaves.delete(l);
    const e = toHex(leaf.encryptionKey);
    if (this.encryption.get(e) === l) this.encryption.delete(e);
    const s = toHex(leaf.signatureKey);
    if (this.signature.get(s) === l) this.signature.delete(s);
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
      if (old !== undefined && toHex(old.encryptionKey) === toHex(leaf.encryptionKey))
        fail("invalid-leaf", "encryption_key not changed");
    }
    const e = this.encryption.get(toHex(leaf.encryptionKey));
    if (e !== undefined && !skip(e)) fail("invalid-leaf", `encryption_key of leaf ${e} reused`);
    const s = this.signature.get(toHex(leaf.signatureKey));
    if (s !== undefined && !skip(s)) fail("invalid-leaf", `signature_key of leaf ${s} reused`);
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
