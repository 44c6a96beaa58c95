/**
 * Leaf node validation within a group, RFC 9420 §7.3 (and §10.1 for a KeyPackage's leaf):
 *
 *  - the signature verifies (with group_id and leaf_index for update and commit leaves);
 *  - leaf_node_source is the one the context requires (key_package in an Add, update in an Update,
 *    commit in an UpdatePath);
 *  - the leaf supports the group's required_capabilities (§11.1) and every credential type in use,
 *    and its own credential type is supported by every member;
 *  - every non-default extension in the leaf is listed in its capabilities.extensions (§7.2);
 *  - encryption_key and signature_key are unique among the group's leaves (the leaf it replaces aside),
 *    and an update or commit leaf changes its encryption_key.
 *
 * The lifetime is checked for KeyPackages (validateKeyPackage) only: for leaves received in a tree the
 * RFC makes it a recommendation, and a tree of old members must stay joinable.
 */
import { equalBytes, toHex } from "../../encoding/bytes.js";
import { TlsReader } from "../tls-codec.js";
import { readU16List } from "./codec.js";
import { decodeOrFail, fail } from "./errors.js";
import { type Extension, ExtensionType, findExtension, isDefaultExtension } from "./extensions.js";
import type { LeafIndex } from "./leaf-index.js";
import {
  type LeafNode,
  LeafNodeSource,
  type LeafNodeSourceValue,
  verifyLeafNodeSignature,
} from "./leaf-node.js";
import type { RatchetTree } from "./ratchet-tree.js";
import type { Suite } from "./suite.js";

export interface RequiredCapabilities {
  extensions: number[];
  proposals: number[];
  credentials: number[];
}

export function requiredCapabilities(
  groupExtensions: readonly Extension[],
): RequiredCapabilities | undefined {
  const e = findExtension(groupExtensions, ExtensionType.requiredCapabilities);
  if (e === undefined) return undefined;
  return decodeOrFail("required_capabilities", () => {
    const r = new TlsReader(e.data);
    const rc = { extensions: readU16List(r), proposals: readU16List(r), credentials: readU16List(r) };
    r.end();
    return rc;
  });
}

export function supportsRequired(leaf: LeafNode, rc: RequiredCapabilities | undefined): boolean {
  if (rc === undefined) return true;
  const c = leaf.capabilities;
  return (
    rc.extensions.every((x) => isDefaultExtension(x) || c.extensions.includes(x)) &&
    rc.proposals.every((x) => x <= 7 || c.proposals.includes(x)) &&
    rc.credentials.every((x) => c.credentials.includes(x))
  );
}

export interface LeafCheck {
  source: LeafNodeSourceValue;
  groupId: Uint8Array;
  /** The leaf's position, for update and commit leaves. */
  leafIndex?: number;
  /** The leaf this one replaces (update/commit), excluded from the uniqueness checks. */
  replaces?: number;
  groupExtensions: readonly Extension[];
  /** Leaves to skip in uniqueness and credential checks (e.g. removed by the same commit). */
  ignore?: ReadonlySet<number>;
  /** The tree's leaves indexed (leaf-index.ts): the group-wide checks without a scan of every leaf. */
  index?: LeafIndex;
  /** The leaf's signature was verified just before, with the same (empty) context: a KeyPackage's
   * leaf after validateKeyPackage. */
  signatureVerified?: boolean;
}

export async function validateLeaf(
  suite: Suite,
  tree: RatchetTree,
  leaf: LeafNode,
  check: LeafCheck,
): Promise<void> {
  if (leaf.source !== check.source)
    fail("invalid-leaf", `leaf_node_source ${leaf.source}, expected ${check.source}`);
  const context =
    check.leafIndex === undefined ? undefined : { groupId: check.groupId, leafIndex: check.leafIndex };
  if (!leaf.capabilities.cipherSuites.includes(suite.id))
    fail("invalid-leaf", "cipher suite not in capabilities");
  if (!leaf.capabilities.versions.includes(1)) fail("invalid-leaf", "MLS 1.0 not in capabilities");
  if (!supportsRequired(leaf, requiredCapabilities(check.groupExtensions))) {
    fail("invalid-leaf", "leaf does not support the group's required capabilities");
  }
  for (const e of leaf.extensions) {
    if (!isDefaultExtension(e.type) && !leaf.capabilities.extensions.includes(e.type)) {
      fail("invalid-leaf", `extension ${e.type} not listed in the leaf's capabilities`);
    }
  }
  if (check.index !== undefined) check.index.check(leaf, check.replaces, check.ignore);
  else scanLeaves(tree, leaf, check);
  if (check.signatureVerified && check.source === LeafNodeSource.keyPackage) return;
  if (!(await verifyLeafNodeSignature(suite, leaf, context))) fail("bad-signature", "leaf node signature");
}

/** Public keys compared: the first byte decides almost every time (no secret is involved). */
const sameKey = (a: Uint8Array, b: Uint8Array): boolean => a[0] === b[0] && equalBytes(a, b);

/** One pass over the leaves (a commit's path leaf: O(N) comparisons, no allocation per leaf). */
function scanLeaves(tree: RatchetTree, leaf: LeafNode, check: LeafCheck): void {
  const type = leaf.credential.type;
  const supported = leaf.capabilities.credentials;
  for (let l = 0; l < tree.leafCount; l++) {
    const other = tree.leaf(l);
    if (other === undefined || check.ignore?.has(l)) continue;
    if (l === check.replaces) {
      if (sameKey(other.encryptionKey, leaf.encryptionKey))
        fail("invalid-leaf", "encryption_key not changed");
      continue;
    }
    if (sameKey(other.encryptionKey, leaf.encryptionKey))
      fail("invalid-leaf", `encryption_key of leaf ${l} reused`);
    if (sameKey(other.signatureKey, leaf.signatureKey))
      fail("invalid-leaf", `signature_key of leaf ${l} reused`);
    if (!other.capabilities.credentials.includes(type)) {
      fail("invalid-leaf", `leaf ${l} does not support credential type ${type}`);
    }
    if (!supported.includes(other.credential.type)) {
      fail("invalid-leaf", `credential type ${other.credential.type} in use but not supported`);
    }
  }
}

/** §12.4.3.1 / tree-validation: every leaf of a tree a joiner receives. */
export async function validateTreeLeaves(
  suite: Suite,
  tree: RatchetTree,
  groupId: Uint8Array,
  groupExtensions: readonly Extension[],
): Promise<void> {
  const encryption = new Set<string>();
  const signature = new Set<string>();
  const rc = requiredCapabilities(groupExtensions);
  const hexOf = toHex;
  const types = new Set<number>();
  const leaves = [...tree.nonBlankLeaves()];
  for (const [, leaf] of leaves) types.add(leaf.credential.type);
  await Promise.all(
    leaves.map(async ([l, leaf]) => {
      const e = hexOf(leaf.encryptionKey);
      const s = hexOf(leaf.signatureKey);
      if (encryption.has(e) || signature.has(s)) fail("invalid-tree", `leaf ${l} reuses a key`);
      encryption.add(e);
      signature.add(s);
      if (!supportsRequired(leaf, rc)) fail("invalid-tree", `leaf ${l} lacks required capabilities`);
      for (const t of types)
        if (!leaf.capabilities.credentials.includes(t)) fail("invalid-tree", `leaf ${l} credentials`);
      for (const x of leaf.extensions) {
        if (!isDefaultExtension(x.type) && !leaf.capabilities.extensions.includes(x.type)) {
          fail("invalid-tree", `leaf ${l}: extension ${x.type} not in its capabilities`);
        }
      }
      const context = leaf.source === 1 ? undefined : { groupId, leafIndex: l };
      if (!(await verifyLeafNodeSignature(suite, leaf, context)))
        fail("bad-signature", `leaf ${l} signature`);
    }),
  );
}
