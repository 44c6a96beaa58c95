/**
 * A commit's proposal list: validity (RFC 9420 §12.2) and application (§12.3, §12.1.1–§12.1.7).
 *
 * Invalid (→ MlsError "invalid-proposal"): an invalid individual proposal (a KeyPackage or leaf that
 * fails §10.1 / §7.3, a Remove of a blank leaf); an Update or Remove of the committer's own leaf; more
 * than one Update/Remove for one leaf; two Adds of the same client, or an Add of a current member;
 * the same PSK twice; more than one GroupContextExtensions; a ReInit with anything else; an
 * ExternalInit outside an external commit; an Update sent by the committer.
 *
 * Applied in the RFC's order — Update, Remove, Add (into the leftmost blank leaves), then PSKs and
 * GroupContextExtensions, which do not touch the tree — on a fork of the tree.
 */
import { equalBytes, toHex } from "../../encoding/bytes.js";
import { TlsWriter } from "../tls-codec.js";
import { fail } from "./errors.js";
import type { Extension } from "./extensions.js";
import { type Sender, SenderType } from "./framing.js";
import type { GroupContext } from "./group-context.js";
import { type KeyPackage, keyPackageSignaturesVerified, validateKeyPackage } from "./key-package.js";
import { LeafIndex } from "./leaf-index.js";
import { LeafNodeSource } from "./leaf-node.js";
import { requiredCapabilities, supportsRequired, validateLeaf } from "./leaf-validation.js";
import { type Proposal, ProposalType } from "./proposals.js";
import { type PreSharedKeyId, PskType, writePreSharedKeyId } from "./psk.js";
import type { RatchetTree } from "./ratchet-tree.js";
import type { Suite } from "./suite.js";
import { addLeaf, removeLeaf, updateLeaf } from "./tree-operations.js";

export interface SentProposal {
  proposal: Proposal;
  sender: Sender;
}

export interface AppliedProposals {
  tree: RatchetTree;
  added: { leafIndex: number; keyPackage: KeyPackage }[];
  removed: number[];
  updated: number[];
  extensions: Extension[];
  extensionsChanged: boolean;
  psks: PreSharedKeyId[];
  externalInit?: Uint8Array;
  reinit: boolean;
}

export interface ApplyInput {
  tree: RatchetTree;
  context: GroupContext;
  /** The committer's leaf; undefined for an external commit (§12.4.3.2). */
  committer: number | undefined;
  proposals: readonly SentProposal[];
}

function senderLeaf(s: Sender): number | undefined {
  return s.type === SenderType.member ? s.leafIndex : undefined;
}

export async function applyProposals(suite: Suite, input: ApplyInput): Promise<AppliedProposals> {
  const { context, committer, proposals } = input;
  const tree = input.tree.fork();
  const bad = (why: string): never => fail("invalid-proposal", why);
  const external = committer === undefined;
  const byType = (t: number) => proposals.filter((p) => p.proposal.type === t);

  const reinits = byType(ProposalType.reinit);
  if (reinits.length > 0 && proposals.length > 1) bad("ReInit must be the only proposal");
  const externalInits = byType(ProposalType.externalInit);
  if (external ? externalInits.length !== 1 : externalInits.length > 0)
    bad("ExternalInit only, and exactly once, in an external commit");
  const gces = byType(ProposalType.groupContextExtensions);
  if (gces.length > 1) bad("more than one GroupContextExtensions");
  if (external) {
    for (const p of proposals) {
      const t = p.proposal.type;
      if (t !== ProposalType.externalInit && t !== ProposalType.remove && t !== ProposalType.psk) {
        bad(`proposal type ${t} in an external commit`);
      }
    }
    if (byType(ProposalType.remove).length > 1) bad("more than one Remove in an external commit");
  }

  // Leaves touched by Update/Remove: each at most once, never the committer's.
  const touched = new Set<number>();
  const touch = (leaf: number) => {
    if (touched.has(leaf)) bad(`leaf ${leaf} updated or removed twice`);
    if (leaf === committer) bad("the committer cannot update or remove itself in its commit");
    touched.add(leaf);
  };
  const updates = byType(ProposalType.update);
  const removes = byType(ProposalType.remove);
  for (const u of updates) {
    const l = senderLeaf(u.sender);
    if (l === undefined) bad("Update from a non-member");
    touch(l!);
  }
  for (const r of removes) {
    if (r.proposal.type !== ProposalType.remove) continue;
    const l = r.proposal.removed;
    if (l >= tree.leafCount || tree.leaf(l) === undefined) bad(`Remove of blank leaf ${l}`);
    touch(l);
  }
  const removedSet = new Set(
    removes.map((r) => (r.proposal.type === ProposalType.remove ? r.proposal.removed : -1)),
  );

  // New extensions first: joiners and leaves are checked against the group as it will be (§12.1.7).
  let extensions = context.extensions;
  if (gces.length === 1 && gces[0]!.proposal.type === ProposalType.groupContextExtensions) {
    extensions = gces[0]!.proposal.extensions;
    const rc = requiredCapabilities(extensions);
    for (const [l, leaf] of tree.nonBlankLeaves()) {
      if (removedSet.has(l)) continue;
      if (!supportsRequired(leaf, rc)) bad(`leaf ${l} does not support the new required capabilities`);
      for (const e of extensions) {
        if (e.type > 5 && !leaf.capabilities.extensions.includes(e.type))
          bad(`leaf ${l} does not support extension ${e.type}`);
      }
    }
  }

  const result: AppliedProposals = {
    tree,
    added: [],
    removed: [],
    updated: [],
    extensions,
    extensionsChanged: gces.length === 1,
    psks: [],
    reinit: reinits.length > 0,
  };

  // Built only when leaves are checked against the group (Updates, Adds).
  const adds = byType(ProposalType.add);
  const index = updates.length + adds.length > 0 ? new LeafIndex(tree) : undefined;
  for (const u of updates) {
    if (u.proposal.type !== ProposalType.update) continue;
    const l = senderLeaf(u.sender)!;
    await validateLeaf(suite, tree, u.proposal.leafNode, {
      source: LeafNodeSource.update,
      groupId: context.groupId,
      leafIndex: l,
      replaces: l,
      groupExtensions: extensions,
      ...(index !== undefined ? { index } : {}),
    });
    updateLeaf(tree, l, u.proposal.leafNode);
    index?.add(l, u.proposal.leafNode);
    result.updated.push(l);
  }
  for (const r of removes) {
    if (r.proposal.type !== ProposalType.remove) continue;
    removeLeaf(tree, r.proposal.removed);
    index?.remove(r.proposal.removed);
    result.removed.push(r.proposal.removed);
  }
  const addedKeys: Uint8Array[] = [];
  for (const a of adds) {
    if (a.proposal.type !== ProposalType.add) continue;
    const kp = a.proposal.keyPackage;
    if (kp.cipherSuite !== context.cipherSuite) bad("KeyPackage for another cipher suite");
    if (addedKeys.some((k) => equalBytes(k, kp.leafNode.signatureKey))) bad("two Adds of the same client");
    addedKeys.push(kp.leafNode.signatureKey);
    try {
      await validateKeyPackage(suite, kp);
      await validateLeaf(suite, tree, kp.leafNode, {
        source: LeafNodeSource.keyPackage,
        groupId: context.groupId,
        groupExtensions: extensions,
        ...(index !== undefined ? { index } : {}),
        // validateKeyPackage verified this leaf's signature (no context for a KeyPackage's leaf).
        signatureVerified: keyPackageSignaturesVerified(kp),
      });
    } catch (e) {
      bad(`Add: ${e instanceof Error ? e.message : String(e)}`);
    }
    const leafIndex = addLeaf(tree, kp.leafNode);
    index?.add(leafIndex, kp.leafNode);
    result.added.push({ leafIndex, keyPackage: kp });
  }
  const seenPsk = new Set<string>();
  for (const p of byType(ProposalType.psk)) {
    if (p.proposal.type !== ProposalType.psk) continue;
    const id = p.proposal.psk;
    if (id.type === PskType.resumption && id.usage !== 1) bad("resumption PSK usage must be application");
    if (id.nonce.length !== suite.kdf.size) bad("psk_nonce must be KDF.Nh bytes");
    const w = new TlsWriter();
    writePreSharedKeyId(w, { ...id, nonce: new Uint8Array(0) });
    const key = toHex(w.finish());
    if (seenPsk.has(key)) bad("the same PSK twice");
    seenPsk.add(key);
    result.psks.push(id);
  }
  if (externalInits.length === 1 && externalInits[0]!.proposal.type === ProposalType.externalInit) {
    result.externalInit = externalInits[0]!.proposal.kemOutput;
  }
  return result;
}
