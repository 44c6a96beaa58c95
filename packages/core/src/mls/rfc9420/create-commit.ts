/**
 * Creating a Commit and its Welcome, RFC 9420 §12.4.1 and §12.4.3:
 *
 *  1. the proposals (GroupContextExtensions, Removes, Adds inline; optionally every proposal received
 *     this epoch by reference) are checked and applied to a fork of the tree exactly as a receiver will
 *     (proposal-list.ts);
 *  2. an UpdatePath exactly when §12.4 requires one (the list is empty or holds anything but Add, PSK
 *     and ReInit: Remove, Update, GroupContextExtensions) or our leaf changes (`newLeaf`). A commit of
 *     Adds only has none: with a path, the committer encrypts a path secret to the resolution of every
 *     copath node — about N/2 HPKE seals in a grown tree whose parents are mostly blank — where the
 *     adds alone need one seal per joiner (its Welcome); its commit_secret is then the zero vector
 *     (§8) and the new leaves go into the unmerged_leaves of their non-blank ancestors (§12.1.1). The
 *     committer's post-compromise update comes with its next path-carrying commit. With a path, the
 *     new leaves are excluded from the path's recipients, and the path secrets are encrypted under the
 *     provisional GroupContext: epoch + 1, the tree hash after proposals and path, the old confirmed
 *     transcript hash, and the NEW extensions (§12.4.1) — so a removal, adds and a rename are one
 *     commit;
 *  3. FramedContent signed over the OLD GroupContext; confirmed_transcript_hash, the new GroupContext,
 *     the key schedule, confirmation_tag = MAC(confirmation_key, confirmed_transcript_hash);
 *  4. the Welcome: GroupInfo(new context, ratchet_tree extension, confirmation_tag, signer) signed and
 *     sealed under welcome_secret; per new member, GroupSecrets(joiner_secret, the path secret of the
 *     lowest common ancestor of committer and joiner when there is a path, psks) sealed to its init_key (EncryptWithLabel
 *     "Welcome", context encrypted_group_info), addressed by KeyPackageRef.
 */
import { encryptWithLabel } from "../labeled-crypto.js";
import { encodeWith } from "./codec.js";
import { type ProposalOrRef, pathRequired } from "./commit.js";
import { fail } from "./errors.js";
import { type Extension, ExtensionType } from "./extensions.js";
import {
  type AuthenticatedContent,
  ContentType,
  confirmedTranscriptHashInput,
  type FramedContent,
  membershipTag,
  SenderType,
  signFramedContent,
  WireFormat,
} from "./framing.js";
import { encodeGroupContext, type GroupContext } from "./group-context.js";
import { type GroupInfo, signGroupInfo, writeGroupInfo } from "./group-info.js";
import { type GroupState, resolvePsks } from "./group-state.js";
import { type KeyPackage, keyPackageRef } from "./key-package.js";
import { epochSecrets } from "./key-schedule.js";
import type { LeafNode } from "./leaf-node.js";
import type { MlsMessage } from "./mls-message.js";
import { nextEpochState } from "./next-epoch.js";
import { protect } from "./private-message.js";
import { provisionalContext } from "./process-commit.js";
import { type AppliedProposals, applyProposals, type SentProposal } from "./proposal-list.js";
import { type Proposal, ProposalType } from "./proposals.js";
import { pskSecret } from "./psk.js";
import { encodeRatchetTree } from "./ratchet-tree.js";
import { confirmationTag, confirmedTranscriptHash } from "./transcript-hash.js";
import { rootTreeHash } from "./tree-hash.js";
import { leafRange } from "./tree-math.js";
import { createUpdatePath, prunePrivateKeys } from "./treekem.js";
import {
  type EncryptedGroupSecrets,
  type Welcome,
  welcomeKeyAndNonce,
  writeGroupSecrets,
} from "./welcome.js";

export interface CommitOptions {
  add?: KeyPackage[];
  remove?: number[];
  /** New GroupContext extensions (a GroupContextExtensions proposal). */
  extensions?: Extension[];
  /** Also commit every proposal received this epoch, by reference. */
  includePending?: boolean;
  wireFormat?: "public" | "private";
  authenticatedData?: Uint8Array;
  /**
   * Our leaf gets a new signature key and credential (a key reset: the committer's new device). The
   * commit itself is signed with the current key, which the receivers know; the new leaf, and
   * everything after it, with the new one.
   */
  newLeaf?: { signKey: Uint8Array; signatureKey: Uint8Array; credential: LeafNode["credential"] };
  /**
   * An UpdatePath even where §12.4 does not require one (a commit of Adds only): the committer's own
   * key update in the same commit, at the price of a seal per copath resolution node.
   */
  forcePath?: boolean;
}

export interface CreatedCommit {
  state: GroupState;
  commit: MlsMessage;
  welcome?: MlsMessage;
  /** The signed GroupInfo (with the ratchet tree), when the commit adds members. */
  groupInfo?: GroupInfo;
  applied: AppliedProposals;
}

export async function createCommit(state: GroupState, options: CommitOptions = {}): Promise<CreatedCommit> {
  const { suite } = state;
  const me = { type: SenderType.member, leafIndex: state.myLeaf } as const;
  const inline: Proposal[] = [];
  if (options.extensions !== undefined) {
    inline.push({ type: ProposalType.groupContextExtensions, extensions: options.extensions });
  }
  for (const removed of options.remove ?? []) inline.push({ type: ProposalType.remove, removed });
  for (const keyPackage of options.add ?? []) inline.push({ type: ProposalType.add, keyPackage });
  const refs: ProposalOrRef[] = [];
  const sent: SentProposal[] = [];
  if (options.includePending) {
    for (const c of state.proposals.values()) {
      refs.push({ kind: "reference", ref: c.ref });
      sent.push({ proposal: c.proposal, sender: c.sender });
    }
  }
  for (const p of inline) {
    refs.push({ kind: "proposal", proposal: p });
    sent.push({ proposal: p, sender: me });
  }
  const applied = await applyProposals(suite, {
    tree: state.tree,
    context: state.context,
    committer: state.myLeaf,
    proposals: sent,
  });
  const tree = applied.tree;
  const old = tree.leaf(state.myLeaf);
  if (old === undefined) fail("invalid-commit", "our leaf is blank");
  const withPath =
    options.newLeaf !== undefined || pathRequired(sent.map((p) => p.proposal)) || options.forcePath === true;
  const created = withPath
    ? await createUpdatePath(suite, {
        tree,
        leafIndex: state.myLeaf,
        groupId: state.context.groupId,
        signKey: options.newLeaf?.signKey ?? state.signKey,
        leaf: {
          signatureKey: options.newLeaf?.signatureKey ?? old.signatureKey,
          credential: options.newLeaf?.credential ?? old.credential,
          capabilities: old.capabilities,
          extensions: old.extensions,
        },
        excluded: new Set(applied.added.map((a) => a.leafIndex)),
        context: (h) => encodeGroupContext(provisionalContext(state.context, h, applied)),
      })
    : undefined;
  // Without a path: commit_secret is all zeros (§8) and the tree hash is the tree's after the adds.
  const commitSecret = created?.commitSecret ?? new Uint8Array(suite.kdf.size);
  const treeHash = created?.treeHash ?? (await rootTreeHash(suite, tree));

  const wireFormat = options.wireFormat === "public" ? WireFormat.publicMessage : WireFormat.privateMessage;
  const content: FramedContent = {
    groupId: state.context.groupId,
    epoch: state.context.epoch,
    sender: me,
    authenticatedData: options.authenticatedData ?? new Uint8Array(0),
    contentType: ContentType.commit,
    commit: created ? { proposals: refs, path: created.updatePath } : { proposals: refs },
  };
  const signature = await signFramedContent(suite, state.signKey, wireFormat, content, state.context);
  const confirmed = await confirmedTranscriptHash(
    suite,
    state.interimTranscriptHash,
    confirmedTranscriptHashInput({ wireFormat, content, auth: { signature } }),
  );
  const context: GroupContext = {
    ...provisionalContext(state.context, treeHash, applied),
    confirmedTranscriptHash: confirmed,
  };
  const psk = await pskSecret(suite, resolvePsks(state, applied.psks));
  const secrets = await epochSecrets(
    suite,
    state.secrets.initSecret,
    commitSecret,
    psk,
    encodeGroupContext(context),
  );
  const tag = await confirmationTag(suite, secrets.confirmationKey, confirmed);
  const ac: AuthenticatedContent = { wireFormat, content, auth: { signature, confirmationTag: tag } };

  let commit: MlsMessage;
  if (wireFormat === WireFormat.publicMessage) {
    const mt = await membershipTag(suite, state.secrets.membershipKey, content, ac.auth, state.context);
    commit = { wireFormat, publicMessage: { content, auth: ac.auth, membershipTag: mt } };
  } else {
    commit = {
      wireFormat,
      privateMessage: await protect(suite, {
        content,
        auth: ac.auth,
        senderDataSecret: state.secrets.senderDataSecret,
        secretTree: state.secretTree.clone(),
        reuseGuard: suite.rng.randomBytes(4),
      }),
    };
  }

  // The GroupInfo carries the whole tree: built only when someone joins (no whole-tree encoding on
  // every commit).
  let welcome: MlsMessage | undefined;
  let groupInfo: GroupInfo | undefined;
  if (applied.added.length > 0) {
    groupInfo = await signGroupInfo(suite, options.newLeaf?.signKey ?? state.signKey, {
      groupContext: context,
      extensions: [{ type: ExtensionType.ratchetTree, data: encodeRatchetTree(tree) }],
      confirmationTag: tag,
      signer: state.myLeaf,
    });
    const { key, nonce } = await welcomeKeyAndNonce(suite, secrets.welcomeSecret);
    const encryptedGroupInfo = await suite.hpke.encryptAead(
      key,
      nonce,
      new Uint8Array(0),
      encodeWith(writeGroupInfo, groupInfo),
    );
    const secretsFor: EncryptedGroupSecrets[] = await Promise.all(
      applied.added.map(async ({ leafIndex, keyPackage }) => {
        const i =
          created?.filteredPath.findIndex((x) => {
            const { first, end } = leafRange(x);
            return leafIndex >= first && leafIndex < end;
          }) ?? -1;
        const gs = encodeWith(writeGroupSecrets, {
          joinerSecret: secrets.joinerSecret,
          ...(i >= 0 ? { pathSecret: created!.pathSecrets[i]! } : {}),
          psks: applied.psks,
        });
        const sealed = await encryptWithLabel(
          suite.hpke,
          keyPackage.initKey,
          "Welcome",
          encryptedGroupInfo,
          gs,
        );
        return { newMember: await keyPackageRef(suite, keyPackage), encryptedGroupSecrets: sealed };
      }),
    );
    const w: Welcome = { cipherSuite: suite.id, secrets: secretsFor, encryptedGroupInfo };
    welcome = { wireFormat: WireFormat.welcome, welcome: w };
  }

  const keys = prunePrivateKeys(tree, state.keys);
  for (const [x, k] of created?.keys ?? []) keys.set(x, k);
  const next = await nextEpochState(suite, state, {
    context,
    tree,
    keys,
    secrets,
    confirmedTranscriptHash: confirmed,
    confirmationTag: tag,
  });
  return {
    // A new leaf signs with its new key from the next epoch on.
    state: options.newLeaf ? { ...next, signKey: options.newLeaf.signKey } : next,
    commit,
    ...(welcome !== undefined ? { welcome } : {}),
    ...(groupInfo !== undefined ? { groupInfo } : {}),
    applied,
  };
}
