/**
 * Processing a received Commit, RFC 9420 §12.4.2 (external commits §12.4.3.2):
 *
 *  1. resolve the proposal list (references from this epoch's cache, §12.4) and check it (§12.2);
 *  2. §12.4: a path MUST be present if the list is empty or holds anything but Add, PSK and ReInit —
 *     otherwise MlsError("path-required"), whatever the sender's intent;
 *  3. apply the proposals to a fork of the tree (§12.3); if there is a path, validate its leaf (§7.3),
 *     merge it and decrypt our path secret under the provisional GroupContext
 *       (group_id, epoch + 1, new tree hash, old confirmed_transcript_hash, new extensions);
 *  4. confirmed_transcript_hash = Hash(interim_[n-1] || ConfirmedTranscriptHashInput)  (§8.2),
 *     the new GroupContext, the key schedule (§8) with init_secret_[n-1] (or, for an external commit,
 *     the HPKE export under external_priv), commit_secret and psk_secret;
 *  5. the confirmation tag MUST equal MAC(confirmation_key, confirmed_transcript_hash), else "bad-mac".
 *
 * Nothing of the old state is modified: the result is a new state, or a typed error.
 */
import { equalBytes, toHex } from "../../encoding/bytes.js";
import { type Commit, pathRequired } from "./commit.js";
import { fail } from "./errors.js";
import {
  type AuthenticatedContent,
  confirmedTranscriptHashInput,
  type Sender,
  SenderType,
} from "./framing.js";
import { encodeGroupContext, type GroupContext } from "./group-context.js";
import { type CachedProposal, type GroupState, resolvePsks } from "./group-state.js";
import { epochSecrets } from "./key-schedule.js";
import { LeafNodeSource } from "./leaf-node.js";
import { validateLeaf } from "./leaf-validation.js";
import { nextEpochState } from "./next-epoch.js";
import { type AppliedProposals, applyProposals, type SentProposal } from "./proposal-list.js";
import { pskSecret } from "./psk.js";
import { confirmationTag, confirmedTranscriptHash } from "./transcript-hash.js";
import { rootTreeHash } from "./tree-hash.js";
import { addLeaf } from "./tree-operations.js";
import { processUpdatePath, prunePrivateKeys } from "./treekem.js";

export interface CommitResult {
  state: GroupState;
  /** True when this commit removed us: `state` is then the old state, and the group is over for us. */
  removedUs: boolean;
  applied: AppliedProposals;
  committer: number;
}

export function resolveProposals(state: GroupState, commit: Commit, committer: Sender): SentProposal[] {
  return commit.proposals.map((p) => {
    if (p.kind === "proposal") return { proposal: p.proposal, sender: committer };
    const cached: CachedProposal | undefined = state.proposals.get(toHex(p.ref));
    if (cached === undefined) fail("unknown-proposal", "a referenced proposal was not received this epoch");
    return { proposal: cached.proposal, sender: cached.sender };
  });
}

export function provisionalContext(
  old: GroupContext,
  treeHash: Uint8Array,
  applied: AppliedProposals,
): GroupContext {
  return {
    ...old,
    epoch: old.epoch + 1n,
    treeHash,
    extensions: applied.extensions,
  };
}

export async function processCommit(state: GroupState, ac: AuthenticatedContent): Promise<CommitResult> {
  const { suite } = state;
  const content = ac.content;
  if (content.contentType !== 3) fail("malformed", "not a commit");
  const commit = content.commit;
  const sender = content.sender;
  let committer: number | undefined;
  if (sender.type === SenderType.member) committer = sender.leafIndex;
  else if (sender.type !== SenderType.newMemberCommit)
    fail("invalid-commit", "commit from an external sender");
  if (committer === state.myLeaf)
    fail("invalid-commit", "our own commit comes back: apply it at creation instead");

  const proposals = resolveProposals(state, commit, sender);
  for (const p of commit.proposals) {
    if (p.kind === "proposal" && p.proposal.type === 2)
      fail("invalid-proposal", "a commit cannot carry an Update by value");
  }
  if (pathRequired(proposals.map((p) => p.proposal)) && commit.path === undefined) {
    fail("path-required", "§12.4: this commit's proposals require an UpdatePath");
  }
  const applied = await applyProposals(suite, {
    tree: state.tree,
    context: state.context,
    committer,
    proposals,
  });
  const tree = applied.tree;
  if (applied.removed.includes(state.myLeaf)) {
    return { state, removedUs: true, applied, committer: committer ?? -1 };
  }
  let senderLeaf = committer;
  if (senderLeaf === undefined) {
    // External commit: the joiner's leaf goes into the leftmost blank leaf, like an Add (§12.4.3.2).
    if (commit.path === undefined) fail("path-required", "an external commit must have a path");
    senderLeaf = addLeaf(tree, commit.path.leafNode);
  }
  const excluded = new Set(applied.added.map((a) => a.leafIndex));
  let commitSecret: Uint8Array = new Uint8Array(suite.kdf.size);
  let keys = prunePrivateKeys(tree, state.keys);
  let treeHash: Uint8Array;
  if (commit.path !== undefined) {
    const leaf = commit.path.leafNode;
    await validateLeaf(suite, tree, leaf, {
      source: LeafNodeSource.commit,
      groupId: state.context.groupId,
      leafIndex: senderLeaf,
      replaces: senderLeaf,
      groupExtensions: applied.extensions,
      ...(committer === undefined ? { ignore: new Set([senderLeaf]) } : {}),
    });
    const processed = await processUpdatePath(suite, {
      tree,
      senderLeaf,
      groupId: state.context.groupId,
      updatePath: commit.path,
      excluded,
      context: (h) => encodeGroupContext(provisionalContext(state.context, h, applied)),
      myLeaf: state.myLeaf,
      myKeys: keys,
    });
    commitSecret = processed.commitSecret!;
    keys = prunePrivateKeys(tree, keys);
    for (const [x, k] of processed.keys) keys.set(x, k);
    treeHash = processed.treeHash;
  } else {
    treeHash = await rootTreeHash(suite, tree);
  }

  const psks = resolvePsks(state, applied.psks);
  const psk = await pskSecret(suite, psks);
  const confirmed = await confirmedTranscriptHash(
    suite,
    state.interimTranscriptHash,
    confirmedTranscriptHashInput(ac),
  );
  const context: GroupContext = {
    ...provisionalContext(state.context, treeHash, applied),
    confirmedTranscriptHash: confirmed,
  };
  let initSecret = state.secrets.initSecret;
  if (committer === undefined) {
    if (applied.externalInit === undefined) fail("invalid-commit", "external commit without ExternalInit");
    const { privateKey } = await suite.hpke.deriveKeyPair(state.secrets.externalSecret);
    initSecret = await suite.hpke.importSecret(
      privateKey,
      new TextEncoder().encode("MLS 1.0 external init secret"),
      applied.externalInit,
      suite.kdf.size,
      new Uint8Array(0),
    );
  }
  const secrets = await epochSecrets(suite, initSecret, commitSecret, psk, encodeGroupContext(context));
  const tag = await confirmationTag(suite, secrets.confirmationKey, confirmed);
  if (ac.auth.confirmationTag === undefined || !equalBytes(tag, ac.auth.confirmationTag)) {
    fail("bad-mac", "confirmation tag does not match");
  }
  const next = await nextEpochState(suite, state, {
    context,
    tree,
    keys,
    secrets,
    confirmedTranscriptHash: confirmed,
    confirmationTag: tag,
  });
  return { state: next, removedUs: false, applied, committer: senderLeaf };
}
