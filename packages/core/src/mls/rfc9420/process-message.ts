/**
 * Receiving a handshake or application message, RFC 9420 §6 (framing checks) and §6.3 (decryption):
 *
 *  - the group_id and epoch must be ours ("wrong-group", "wrong-epoch");
 *  - PublicMessage from a member: the membership tag MUST verify (§6.2) with this epoch's
 *    membership_key, then the signature over FramedContentTBS with the sender's leaf key;
 *    application data MUST NOT arrive as a PublicMessage (§6.2);
 *  - PrivateMessage: sender data and content decrypt with this epoch's keys (§6.3), each generation
 *    at most once (secret-tree.ts), then the same signature check;
 *  - proposals are cached for this epoch by ProposalRef = RefHash("MLS 1.0 Proposal Reference",
 *    AuthenticatedContent) (§5.2); commits go to process-commit.ts.
 *
 * On any failure the input state is untouched (the secret tree is consumed on a clone).
 */
import { equalBytes, toHex } from "../../encoding/bytes.js";
import { refHash } from "../labeled-crypto.js";
import { fail, typed } from "./errors.js";
import {
  type AuthenticatedContent,
  ContentType,
  encodeAuthenticatedContent,
  membershipTag,
  SenderType,
  verifyFramedContent,
  WireFormat,
} from "./framing.js";
import type { GroupState } from "./group-state.js";
import { LeafNodeSource } from "./leaf-node.js";
import { validateLeaf } from "./leaf-validation.js";
import type { MlsMessage } from "./mls-message.js";
import { unprotect } from "./private-message.js";
import { type CommitResult, processCommit } from "./process-commit.js";
import type { Proposal } from "./proposals.js";
import { ProposalType } from "./proposals.js";

export type Received =
  | { kind: "application"; state: GroupState; data: Uint8Array; sender: number; generation: number }
  | { kind: "proposal"; state: GroupState; proposal: Proposal; ref: Uint8Array; sender: number }
  | ({ kind: "commit" } & CommitResult);

export function processMessage(state: GroupState, message: MlsMessage): Promise<Received> {
  return typed("processing a message", () => processUnchecked(state, message));
}

async function processUnchecked(state: GroupState, message: MlsMessage): Promise<Received> {
  const { suite } = state;
  let ac: AuthenticatedContent;
  let next = state;
  let generation = 0;
  if (message.wireFormat === WireFormat.publicMessage) {
    const m = message.publicMessage;
    checkGroupAndEpoch(state, m.content.groupId, m.content.epoch);
    if (m.content.contentType === ContentType.application)
      fail("malformed", "application data in a PublicMessage");
    ac = { wireFormat: WireFormat.publicMessage, content: m.content, auth: m.auth };
    if (m.content.sender.type === SenderType.member) {
      const tag = await membershipTag(suite, state.secrets.membershipKey, m.content, m.auth, state.context);
      if (m.membershipTag === undefined || !equalBytes(tag, m.membershipTag))
        fail("bad-mac", "membership tag");
    } else if (m.content.sender.type !== SenderType.newMemberCommit) {
      fail("unsupported", "external senders and new-member proposals are not accepted");
    }
  } else if (message.wireFormat === WireFormat.privateMessage) {
    const m = message.privateMessage;
    checkGroupAndEpoch(state, m.groupId, m.epoch);
    const secretTree = state.secretTree.clone();
    const opened = await unprotect(suite, m, state.secrets.senderDataSecret, secretTree);
    ac = { wireFormat: WireFormat.privateMessage, content: opened.content, auth: opened.auth };
    generation = opened.generation;
    next = { ...state, secretTree };
  } else {
    return fail("malformed", `wire format ${message.wireFormat} is not a group message`);
  }

  const sender = ac.content.sender;
  let signatureKey: Uint8Array;
  if (sender.type === SenderType.member) {
    const leaf = state.tree.leaf(sender.leafIndex);
    if (leaf === undefined) fail("malformed", `sender leaf ${sender.leafIndex} is blank`);
    signatureKey = leaf.signatureKey;
  } else {
    if (ac.content.contentType !== ContentType.commit || ac.content.commit.path === undefined) {
      fail("invalid-commit", "a new member's commit must carry a path");
    }
    signatureKey = ac.content.commit.path.leafNode.signatureKey;
  }
  if (!(await verifyFramedContent(suite, signatureKey, ac, state.context)))
    fail("bad-signature", "FramedContent");

  const c = ac.content;
  if (c.contentType === ContentType.application) {
    return {
      kind: "application",
      state: next,
      data: c.applicationData,
      sender: (sender as { leafIndex: number }).leafIndex,
      generation,
    };
  }
  if (c.contentType === ContentType.proposal) {
    if (sender.type !== SenderType.member) fail("unsupported", "proposal from a non-member");
    const p = c.proposal;
    if (p.type === ProposalType.update) {
      await validateLeaf(suite, state.tree, p.leafNode, {
        source: LeafNodeSource.update,
        groupId: state.context.groupId,
        leafIndex: sender.leafIndex,
        replaces: sender.leafIndex,
        groupExtensions: state.context.extensions,
      });
    }
    const ref = await refHash(suite.hash, "MLS 1.0 Proposal Reference", encodeAuthenticatedContent(ac));
    const proposals = new Map(next.proposals);
    proposals.set(toHex(ref), { proposal: p, sender, ref });
    return { kind: "proposal", state: { ...next, proposals }, proposal: p, ref, sender: sender.leafIndex };
  }
  const result = await processCommit(next, ac);
  return { kind: "commit", ...result };
}

function checkGroupAndEpoch(state: GroupState, groupId: Uint8Array, epoch: bigint): void {
  if (!equalBytes(groupId, state.context.groupId)) fail("wrong-group", "message for another group");
  if (epoch !== state.context.epoch)
    fail("wrong-epoch", `message of epoch ${epoch}, group at ${state.context.epoch}`);
}
