/**
 * TreeKEM: creating and processing an UpdatePath, RFC 9420 §7.4–§7.6 (parent hashes §7.9):
 *
 *     path_secret[0]   = random(KDF.Nh)                  (for the first node of the filtered direct path)
 *     path_secret[n]   = DeriveSecret(path_secret[n-1], "path")
 *     node_priv[n], node_pub[n] = DeriveKeyPair(DeriveSecret(path_secret[n], "node"))
 *     commit_secret    = DeriveSecret(path_secret[last], "path")
 *     encrypted_path_secret[n] = for each node X in resolution(copath child n) minus the leaves added by
 *                                this commit: EncryptWithLabel(X.encryption_key, "UpdatePathNode",
 *                                provisional GroupContext, path_secret[n])
 *
 * Order of a commit's path (§7.5, §12.4.1): the sender's direct path is blanked, the new keys and
 * parent hashes set, the leaf signed; only then is the tree hash — and with it the provisional
 * GroupContext the secrets are encrypted under — known. That context is the NEW one (epoch + 1, the
 * new tree hash, the extensions after any GroupContextExtensions proposal), which is why callers
 * pass a function of the tree hash rather than a context.
 *
 * Private keys are held per node with their public key; after any tree change, keys whose node no
 * longer carries that public key are dropped (`prunePrivateKeys`), so nothing stale survives.
 */
import { equalBytes } from "../../encoding/bytes.js";
import { decryptWithLabel, deriveSecret, encryptWithLabel } from "../labeled-crypto.js";
import { fail, MlsError } from "./errors.js";
import { type LeafNode, LeafNodeSource, signLeafNode, verifyLeafNodeSignature } from "./leaf-node.js";
import { computeParentHash } from "./parent-hash.js";
import type { RatchetTree } from "./ratchet-tree.js";
import { deriveHpkeKeyPair, type Suite } from "./suite.js";
import { rootTreeHash, treeHash } from "./tree-hash.js";
import { directPath, leafRange } from "./tree-math.js";
import type { UpdatePath } from "./update-path.js";

export interface NodeKey {
  privateKey: Uint8Array;
  publicKey: Uint8Array;
}

/** The private half of a member's view of the tree: node index → key pair. */
export type PathKeys = Map<number, NodeKey>;

export function prunePrivateKeys(tree: RatchetTree, keys: PathKeys): PathKeys {
  const out: PathKeys = new Map();
  for (const [x, k] of keys) {
    const n = tree.node(x);
    const pub =
      n === undefined ? undefined : n.kind === "leaf" ? n.leaf.encryptionKey : n.parent.encryptionKey;
    if (pub !== undefined && equalBytes(pub, k.publicKey)) out.set(x, k);
  }
  return out;
}

export async function pathSecretsFrom(suite: Suite, first: Uint8Array, count: number): Promise<Uint8Array[]> {
  const out = [first];
  for (let i = 1; i < count; i++) out.push(await deriveSecret(suite.kdf, out[i - 1]!, "path"));
  return out;
}

export async function nodeKeyFromPathSecret(suite: Suite, pathSecret: Uint8Array): Promise<NodeKey> {
  return deriveHpkeKeyPair(suite, await deriveSecret(suite.kdf, pathSecret, "node"));
}

/**
 * Sets the sender's filtered direct path to `publicKeys` with parent hashes computed top-down, and
 * returns the parent hash the sender's leaf must carry (§7.9). The direct path is blanked first.
 */
async function setPath(
  suite: Suite,
  tree: RatchetTree,
  leafIndex: number,
  publicKeys: Uint8Array[],
): Promise<Uint8Array> {
  for (const p of directPath(2 * leafIndex, tree.leafCount))
    if (tree.node(p) !== undefined) tree.set(p, undefined);
  const path = tree.filteredDirectPath(leafIndex);
  const copath = tree.filteredCopath(leafIndex);
  if (path.length !== publicKeys.length) {
    fail(
      "invalid-commit",
      `UpdatePath has ${publicKeys.length} nodes, the filtered direct path ${path.length}`,
    );
  }
  let parentHash: Uint8Array = new Uint8Array(0);
  // Top-down: each node's parent_hash is the hash of the node above it.
  for (let i = path.length - 1; i >= 0; i--) {
    const node = { encryptionKey: publicKeys[i]!, parentHash, unmergedLeaves: [] as number[] };
    tree.setParent(path[i]!, node);
    parentHash = await computeParentHash(suite, node, await treeHash(suite, tree, copath[i]!));
  }
  return parentHash;
}

export interface CreatedPath {
  updatePath: UpdatePath;
  /** path_secret for each node of the filtered direct path (bottom-up). */
  pathSecrets: Uint8Array[];
  filteredPath: number[];
  commitSecret: Uint8Array;
  /** The new private keys (leaf and path). */
  keys: PathKeys;
  treeHash: Uint8Array;
}

export interface CreatePathInput {
  /** Mutated: the path is merged into it. Pass a fork. */
  tree: RatchetTree;
  leafIndex: number;
  groupId: Uint8Array;
  signKey: Uint8Array;
  /** The committer's new leaf, without keys, parent hash or signature. */
  leaf: Omit<LeafNode, "encryptionKey" | "source" | "parentHash" | "signature" | "lifetime">;
  /** Leaves added by the same commit: they get the path secret from the Welcome instead (§7.5). */
  excluded: ReadonlySet<number>;
  /** The provisional GroupContext (encoded) for the tree hash after the path. */
  context: (treeHash: Uint8Array) => Uint8Array;
  /** Test vectors only: a fixed first path secret and leaf key. */
  random?: { leafSecret?: Uint8Array; pathSecret?: Uint8Array };
}

export async function createUpdatePath(suite: Suite, p: CreatePathInput): Promise<CreatedPath> {
  const { tree, leafIndex } = p;
  const leafKey = await deriveHpkeKeyPair(
    suite,
    p.random?.leafSecret ?? suite.rng.randomBytes(suite.kdf.size),
  );
  // Blank first: the filtered direct path is computed on the tree without the old path (§7.5).
  for (const x of directPath(2 * leafIndex, tree.leafCount))
    if (tree.node(x) !== undefined) tree.set(x, undefined);
  const filteredPath = tree.filteredDirectPath(leafIndex);
  const copath = tree.filteredCopath(leafIndex);
  const pathSecrets =
    filteredPath.length === 0
      ? []
      : await pathSecretsFrom(
          suite,
          p.random?.pathSecret ?? suite.rng.randomBytes(suite.kdf.size),
          filteredPath.length,
        );
  const nodeKeys = await Promise.all(pathSecrets.map((s) => nodeKeyFromPathSecret(suite, s)));
  const commitSecret =
    pathSecrets.length === 0
      ? new Uint8Array(suite.kdf.size)
      : await deriveSecret(suite.kdf, pathSecrets[pathSecrets.length - 1]!, "path");
  const leafParentHash = await setPath(
    suite,
    tree,
    leafIndex,
    nodeKeys.map((k) => k.publicKey),
  );
  const leaf = await signLeafNode(
    suite,
    p.signKey,
    {
      ...p.leaf,
      encryptionKey: leafKey.publicKey,
      source: LeafNodeSource.commit,
      parentHash: leafParentHash,
    },
    { groupId: p.groupId, leafIndex },
  );
  tree.setLeaf(leafIndex, leaf);
  const newTreeHash = await rootTreeHash(suite, tree);
  const context = p.context(newTreeHash);
  const nodes = await Promise.all(
    filteredPath.map(async (_, i) => {
      const targets = tree.resolution(copath[i]!).filter((x) => !(x % 2 === 0 && p.excluded.has(x >> 1)));
      const encryptedPathSecret = await Promise.all(
        targets.map(async (x) => {
          const n = tree.node(x)!;
          const pub = n.kind === "leaf" ? n.leaf.encryptionKey : n.parent.encryptionKey;
          return encryptWithLabel(suite.hpke, pub, "UpdatePathNode", context, pathSecrets[i]!);
        }),
      );
      return { encryptionKey: nodeKeys[i]!.publicKey, encryptedPathSecret };
    }),
  );
  const keys: PathKeys = new Map([[2 * leafIndex, leafKey]]);
  for (const [i, x] of filteredPath.entries()) keys.set(x, nodeKeys[i]!);
  return {
    updatePath: { leafNode: leaf, nodes },
    pathSecrets,
    filteredPath,
    commitSecret,
    keys,
    treeHash: newTreeHash,
  };
}

export interface ProcessPathInput {
  /** Mutated: the path is merged into it. Pass a fork (proposals already applied). */
  tree: RatchetTree;
  senderLeaf: number;
  groupId: Uint8Array;
  updatePath: UpdatePath;
  excluded: ReadonlySet<number>;
  context: (treeHash: Uint8Array) => Uint8Array;
  /** Our leaf and our private keys; undefined for a check without decryption. */
  myLeaf?: number;
  myKeys?: PathKeys;
}

export interface ProcessedPath {
  commitSecret?: Uint8Array;
  /** The path secret we decrypted (at the lowest common ancestor), and that node. */
  pathSecret?: Uint8Array;
  pathSecretNode?: number;
  /** Private keys for the path nodes above (and at) the common ancestor. */
  keys: PathKeys;
  treeHash: Uint8Array;
}

/** §7.6 (receiver): merge, verify the leaf's parent hash and signature, decrypt our path secret. */
export async function processUpdatePath(suite: Suite, p: ProcessPathInput): Promise<ProcessedPath> {
  const { tree, senderLeaf, updatePath } = p;
  const leaf = updatePath.leafNode;
  if (leaf.source !== LeafNodeSource.commit) fail("invalid-leaf", "UpdatePath leaf source is not commit");
  if (!(await verifyLeafNodeSignature(suite, leaf, { groupId: p.groupId, leafIndex: senderLeaf }))) {
    fail("bad-signature", "UpdatePath leaf node signature");
  }
  const parentHash = await setPath(
    suite,
    tree,
    senderLeaf,
    updatePath.nodes.map((n) => n.encryptionKey),
  );
  if (!equalBytes(parentHash, leaf.parentHash!)) fail("bad-parent-hash", "UpdatePath leaf parent_hash");
  const filteredPath = tree.filteredDirectPath(senderLeaf);
  const copath = tree.filteredCopath(senderLeaf);
  tree.setLeaf(senderLeaf, leaf);
  const newTreeHash = await rootTreeHash(suite, tree);
  if (p.myLeaf === undefined || p.myKeys === undefined || p.myLeaf === senderLeaf) {
    return { keys: new Map(), treeHash: newTreeHash };
  }
  // The lowest node of the sender's filtered path whose copath child holds us.
  const i = copath.findIndex((c) => {
    const { first, end } = leafRange(c);
    return p.myLeaf! >= first && p.myLeaf! < end;
  });
  if (i < 0) fail("invalid-commit", "we are not below the sender's filtered direct path");
  const resolution = tree.resolution(copath[i]!).filter((x) => !(x % 2 === 0 && p.excluded.has(x >> 1)));
  const upn = updatePath.nodes[i]!;
  if (upn.encryptedPathSecret.length !== resolution.length) {
    fail(
      "invalid-commit",
      `node ${filteredPath[i]}: ${upn.encryptedPathSecret.length} ciphertexts for ${resolution.length} recipients`,
    );
  }
  const j = resolution.findIndex((x) => p.myKeys!.has(x));
  if (j < 0) fail("invalid-commit", "no private key for any node of our copath resolution");
  const holder = p.myKeys.get(resolution[j]!)!;
  const ct = upn.encryptedPathSecret[j]!;
  let pathSecret: Uint8Array;
  try {
    pathSecret = await decryptWithLabel(
      suite.hpke,
      holder.privateKey,
      "UpdatePathNode",
      p.context(newTreeHash),
      ct.kemOutput,
      ct.ciphertext,
    );
  } catch (e) {
    if (e instanceof MlsError) throw e;
    fail("decrypt-failed", "path secret does not decrypt");
  }
  const secrets = await pathSecretsFrom(suite, pathSecret, filteredPath.length - i);
  const keys: PathKeys = new Map();
  for (const [k, s] of secrets.entries()) {
    const key = await nodeKeyFromPathSecret(suite, s);
    if (!equalBytes(key.publicKey, updatePath.nodes[i + k]!.encryptionKey)) {
      fail("invalid-commit", "a path secret does not match the public key sent with it");
    }
    keys.set(filteredPath[i + k]!, key);
  }
  const commitSecret = await deriveSecret(suite.kdf, secrets[secrets.length - 1]!, "path");
  return { commitSecret, pathSecret, pathSecretNode: filteredPath[i]!, keys, treeHash: newTreeHash };
}
