/**
 * Creating a group, RFC 9420 §11: a one-member tree holding the creator's leaf, epoch 0,
 *
 *     GroupContext_[0] = (group_id, epoch 0, tree_hash of that tree, confirmed_transcript_hash = "", extensions)
 *     init_secret_[0] random; commit_secret = psk_secret = 0;  key schedule as in §8
 *     confirmation_tag_[0] = MAC(confirmation_key, "");  interim_[0] = Hash("" || confirmation_tag<V>)
 */

import type { Extension } from "./extensions.js";
import { encodeGroupContext, type GroupContext } from "./group-context.js";
import type { ExternalPskLookup, GroupState } from "./group-state.js";
import { withResumptionPsk } from "./group-state.js";
import { epochSecrets } from "./key-schedule.js";
import type { LeafNode } from "./leaf-node.js";
import { RatchetTree } from "./ratchet-tree.js";
import { SecretTree } from "./secret-tree.js";
import { MLS_10, type Suite } from "./suite.js";
import { confirmationTag, interimTranscriptHash } from "./transcript-hash.js";
import { rootTreeHash } from "./tree-hash.js";

export interface CreateGroupInput {
  groupId: Uint8Array;
  /** The creator's leaf (a key_package leaf, e.g. from its own KeyPackage). */
  leaf: LeafNode;
  encryptionPrivateKey: Uint8Array;
  signKey: Uint8Array;
  extensions?: Extension[];
  externalPsks?: ExternalPskLookup;
}

export async function createGroup(suite: Suite, input: CreateGroupInput): Promise<GroupState> {
  const tree = RatchetTree.single(input.leaf);
  const context: GroupContext = {
    version: MLS_10,
    cipherSuite: suite.id,
    groupId: input.groupId,
    epoch: 0n,
    treeHash: await rootTreeHash(suite, tree),
    confirmedTranscriptHash: new Uint8Array(0),
    extensions: input.extensions ?? [],
  };
  const zero = new Uint8Array(suite.kdf.size);
  const secrets = await epochSecrets(
    suite,
    suite.rng.randomBytes(suite.kdf.size),
    zero,
    zero,
    encodeGroupContext(context),
  );
  const tag = await confirmationTag(suite, secrets.confirmationKey, context.confirmedTranscriptHash);
  return {
    suite,
    context,
    tree,
    myLeaf: 0,
    signKey: input.signKey,
    keys: new Map([[0, { privateKey: input.encryptionPrivateKey, publicKey: input.leaf.encryptionKey }]]),
    secrets,
    secretTree: SecretTree.create(suite, secrets.encryptionSecret, 1),
    interimTranscriptHash: await interimTranscriptHash(suite, context.confirmedTranscriptHash, tag),
    proposals: new Map(),
    resumptionPsks: withResumptionPsk(new Map(), 0n, secrets.resumptionPsk),
    externalPsks: input.externalPsks ?? (() => undefined),
  };
}
