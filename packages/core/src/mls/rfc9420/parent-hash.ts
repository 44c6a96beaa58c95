/**
 * Parent hashes, RFC 9420 §7.9:
 *
 *     struct { HPKEPublicKey encryption_key; opaque parent_hash<V>; opaque original_sibling_tree_hash<V>; } ParentHashInput;
 *     parent_hash(P, S) = Hash(ParentHashInput(P.encryption_key, P.parent_hash, original tree hash of S))
 *
 * where S is the child of P that is not on the committer's path, and "original" means with P's
 * unmerged leaves removed (§7.9.2). When a path is set (§7.5), parent hashes are computed top-down
 * along the filtered direct path: the root's parent_hash is empty, each node below takes the hash of
 * the node above it, and the committer's leaf takes that of the lowest.
 *
 * §7.9.2 (joining, tree validation): every non-blank parent node P must be parent-hash valid: exactly
 * one of its two children's resolutions (without P's unmerged leaves) holds a node whose parent_hash
 * is parent_hash(P, the other child).
 */
import { equalBytes } from "../../encoding/bytes.js";
import { TlsWriter } from "../tls-codec.js";
import { fail } from "./errors.js";
import type { ParentNode, RatchetTree } from "./ratchet-tree.js";
import type { Suite } from "./suite.js";
import { originalTreeHash } from "./tree-hash.js";
import { left, right } from "./tree-math.js";

export function computeParentHash(
  suite: Suite,
  p: Pick<ParentNode, "encryptionKey" | "parentHash">,
  originalSiblingTreeHash: Uint8Array,
): Promise<Uint8Array> {
  return suite.hash.digest(
    new TlsWriter().vector(p.encryptionKey).vector(p.parentHash).vector(originalSiblingTreeHash).finish(),
  );
}

function nodeParentHash(tree: RatchetTree, x: number): Uint8Array | undefined {
  const n = tree.node(x);
  if (n === undefined) return undefined;
  return n.kind === "parent" ? n.parent.parentHash : n.leaf.parentHash;
}

/** Throws MlsError("bad-parent-hash") unless every non-blank parent node is parent-hash valid. */
export async function verifyParentHashes(suite: Suite, tree: RatchetTree): Promise<void> {
  for (let x = 1; x < tree.width; x += 2) {
    const p = tree.parentNode(x);
    if (p === undefined) continue;
    const exclude = new Set(p.unmergedLeaves);
    const l = left(x);
    const r = right(x);
    const [lh, rh] = await Promise.all([
      originalTreeHash(suite, tree, l, exclude),
      originalTreeHash(suite, tree, r, exclude),
    ]);
    const [forLeft, forRight] = await Promise.all([
      computeParentHash(suite, p, rh),
      computeParentHash(suite, p, lh),
    ]);
    const matches = (child: number, expected: Uint8Array) =>
      tree.resolution(child, exclude).some((d) => {
        const ph = nodeParentHash(tree, d);
        return ph !== undefined && equalBytes(ph, expected);
      });
    if (matches(l, forLeft) === matches(r, forRight)) {
      fail("bad-parent-hash", `parent node ${x} is not parent-hash valid`);
    }
  }
}
