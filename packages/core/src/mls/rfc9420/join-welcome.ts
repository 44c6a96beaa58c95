/**
 * Joining from a Welcome, RFC 9420 §12.4.3.1:
 *
 *  1. find our EncryptedGroupSecrets by KeyPackageRef and open it:
 *       GroupSecrets = DecryptWithLabel(init_priv, "Welcome", encrypted_group_info, kem_output, ciphertext)
 *  2. psk_secret from the listed PSKs (§8.4); welcome_secret = DeriveSecret(Extract(joiner, psk), "welcome");
 *     GroupInfo = AEAD.Open(welcome_key, welcome_nonce, "", encrypted_group_info)
 *  3. the GroupInfo signature verifies under the signer's leaf; the tree (ratchet_tree extension or
 *     given out of band) hashes to group_context.tree_hash, is parent-hash valid (§7.9.2) and every
 *     leaf is valid (§7.3), its credential too when the caller gives an Authentication Service check
 *     (§5.3.1); our leaf is the one from our KeyPackage;
 *  4. with a path_secret: it belongs to the lowest common ancestor of our leaf and the signer's, and
 *     the secrets above it follow the signer's filtered direct path; each derived public key MUST match;
 *  5. the epoch secrets from joiner_secret; confirmation_tag MUST equal
 *     MAC(confirmation_key, confirmed_transcript_hash); interim = Hash(confirmed || confirmation_tag<V>).
 */
import { equalBytes } from "../../encoding/bytes.js";
import { decryptWithLabel } from "../labeled-crypto.js";
import { decodeExact } from "./codec.js";
import { fail, typed } from "./errors.js";
import { ExtensionType, findExtension } from "./extensions.js";
import { encodeGroupContext } from "./group-context.js";
import { readGroupInfo, verifyGroupInfo } from "./group-info.js";
import { type ExternalPskLookup, type GroupState, resolvePsks, withResumptionPsk } from "./group-state.js";
import { type KeyPackage, keyPackageRef } from "./key-package.js";
import { epochSecretsFromJoiner, welcomeSecret } from "./key-schedule.js";
import { encodeLeafNode, type LeafNode } from "./leaf-node.js";
import { validateTreeLeaves } from "./leaf-validation.js";
import { verifyParentHashes } from "./parent-hash.js";
import { pskSecret } from "./psk.js";
import { decodeRatchetTree, type RatchetTree } from "./ratchet-tree.js";
import { SecretTree } from "./secret-tree.js";
import type { Suite } from "./suite.js";
import { interimTranscriptHash } from "./transcript-hash.js";
import { rootTreeHash } from "./tree-hash.js";
import { verifyTreeInvariants } from "./tree-invariants.js";
import { leafRange } from "./tree-math.js";
import { nodeKeyFromPathSecret, type PathKeys, pathSecretsFrom } from "./treekem.js";
import { readGroupSecrets, type Welcome, welcomeKeyAndNonce } from "./welcome.js";

export interface JoinInput {
  welcome: Welcome;
  keyPackage: KeyPackage;
  initPrivateKey: Uint8Array;
  encryptionPrivateKey: Uint8Array;
  signPrivateKey: Uint8Array;
  /** The tree, when the GroupInfo does not carry a ratchet_tree extension. */
  ratchetTree?: RatchetTree;
  externalPsks?: ExternalPskLookup;
  /**
   * The application's Authentication Service on every leaf's credential (§5.3.1, §7.3: a credential
   * MUST be valid). Asked for every leaf together with the leaf signatures, before the tree is hashed.
   */
  credentialValid?: (leaf: LeafNode) => Promise<boolean>;
}

/** A promise awaited later: its rejection is handled now (no unhandled rejection if we fail first). */
function later<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

export function joinFromWelcome(suite: Suite, input: JoinInput): Promise<GroupState> {
  return typed("joining from a Welcome", () => join(suite, input));
}

async function join(suite: Suite, input: JoinInput): Promise<GroupState> {
  const { welcome, keyPackage } = input;
  if (welcome.cipherSuite !== keyPackage.cipherSuite || welcome.cipherSuite !== suite.id) {
    fail("unsupported", `Welcome for cipher suite ${welcome.cipherSuite}`);
  }
  const ref = await keyPackageRef(suite, keyPackage);
  const mine = welcome.secrets.find((s) => equalBytes(s.newMember, ref));
  if (mine === undefined) fail("invalid-welcome", "no group secrets for our KeyPackage");
  let gsBytes: Uint8Array;
  try {
    gsBytes = await decryptWithLabel(
      suite.hpke,
      input.initPrivateKey,
      "Welcome",
      welcome.encryptedGroupInfo,
      mine.encryptedGroupSecrets.kemOutput,
      mine.encryptedGroupSecrets.ciphertext,
    );
  } catch {
    fail("decrypt-failed", "group secrets do not decrypt");
  }
  const gs = decodeExact("GroupSecrets", readGroupSecrets, gsBytes);
  const externalPsks = input.externalPsks ?? (() => undefined);
  // Resumption PSKs cannot be known to a new member of this group (no earlier epoch of ours).
  const psks = resolvePsks(
    { externalPsks, resumptionPsks: new Map(), context: { groupId: new Uint8Array(0) } as never },
    gs.psks,
  );
  const psk = await pskSecret(suite, psks);
  const { key, nonce } = await welcomeKeyAndNonce(suite, await welcomeSecret(suite, gs.joinerSecret, psk));
  let giBytes: Uint8Array;
  try {
    giBytes = await suite.hpke.decryptAead(key, nonce, new Uint8Array(0), welcome.encryptedGroupInfo);
  } catch {
    fail("decrypt-failed", "GroupInfo does not decrypt");
  }
  const gi = decodeExact("GroupInfo", readGroupInfo, giBytes);
  const gc = gi.groupContext;
  if (gc.cipherSuite !== suite.id) fail("invalid-welcome", "GroupInfo for another cipher suite");

  const treeExt = findExtension(gi.extensions, ExtensionType.ratchetTree);
  const tree = treeExt !== undefined ? decodeRatchetTree(treeExt.data) : input.ratchetTree?.fork();
  if (tree === undefined) fail("invalid-welcome", "no ratchet tree in the GroupInfo and none given");
  const signer = tree.leaf(gi.signer);
  if (signer === undefined) fail("invalid-welcome", "GroupInfo signer is not a member");
  // Every signature of the Welcome asked for at once (GroupInfo, each leaf, each credential), then the
  // tree hashed while they are verified: a provider that verifies on other threads (node: the libuv
  // pool) keeps this one busy meanwhile. Failures are reported in the order the checks are listed
  // in §12.4.3.1, not in the order they happen to end.
  const groupInfoValid = later(verifyGroupInfo(suite, signer.signatureKey, gi));
  const leavesValid = later(validateTreeLeaves(suite, tree, gc.groupId, gc.extensions));
  const credentialValid = input.credentialValid;
  const credentialsValid =
    credentialValid === undefined
      ? undefined
      : later(Promise.all([...tree.nonBlankLeaves()].map(([, leaf]) => credentialValid(leaf))));
  if (!(await groupInfoValid)) fail("bad-signature", "GroupInfo signature");
  if (!equalBytes(await rootTreeHash(suite, tree), gc.treeHash))
    fail("invalid-tree", "tree hash differs from the GroupContext's");
  verifyTreeInvariants(tree);
  await verifyParentHashes(suite, tree);
  await leavesValid;
  if (credentialsValid !== undefined && (await credentialsValid).includes(false))
    fail("invalid-leaf", "a credential in the group does not verify");

  // Our leaf: encryption keys are unique in a valid tree, so only the leaf with ours is encoded and
  // compared in full (not every leaf of the tree once more).
  const ours = keyPackage.leafNode;
  let myLeaf = -1;
  for (const [l, leaf] of tree.nonBlankLeaves()) {
    if (equalBytes(leaf.encryptionKey, ours.encryptionKey)) {
      if (equalBytes(encodeLeafNode(leaf), encodeLeafNode(ours))) myLeaf = l;
      break;
    }
  }
  if (myLeaf < 0) fail("invalid-welcome", "our leaf is not in the tree");

  const keys: PathKeys = new Map([
    [2 * myLeaf, { privateKey: input.encryptionPrivateKey, publicKey: keyPackage.leafNode.encryptionKey }],
  ]);
  if (gs.pathSecret !== undefined) {
    const path = tree.filteredDirectPath(gi.signer);
    const start = path.findIndex((x) => {
      const { first, end } = leafRange(x);
      return myLeaf >= first && myLeaf < end;
    });
    if (start < 0) fail("invalid-welcome", "path secret without a common ancestor");
    const secrets = await pathSecretsFrom(suite, gs.pathSecret, path.length - start);
    for (const [i, s] of secrets.entries()) {
      const x = path[start + i]!;
      const k = await nodeKeyFromPathSecret(suite, s);
      const node = tree.parentNode(x);
      if (node === undefined || !equalBytes(node.encryptionKey, k.publicKey)) {
        fail("invalid-welcome", `path secret does not match the public key of node ${x}`);
      }
      keys.set(x, k);
    }
  }

  const secrets = await epochSecretsFromJoiner(suite, gs.joinerSecret, psk, encodeGroupContext(gc));
  const tag = await suite.hash.mac(secrets.confirmationKey, gc.confirmedTranscriptHash);
  if (!equalBytes(tag, gi.confirmationTag)) fail("bad-mac", "GroupInfo confirmation tag");
  return {
    suite,
    context: gc,
    tree,
    myLeaf,
    signKey: input.signPrivateKey,
    keys,
    secrets,
    secretTree: SecretTree.create(suite, secrets.encryptionSecret, tree.leafCount),
    interimTranscriptHash: await interimTranscriptHash(suite, gc.confirmedTranscriptHash, gi.confirmationTag),
    proposals: new Map(),
    resumptionPsks: withResumptionPsk(new Map(), gc.epoch, secrets.resumptionPsk),
    externalPsks,
  };
}
