/**
 * Message framing and authentication, RFC 9420 §6 and §6.1–§6.2:
 *
 *     struct { SenderType sender_type; select (sender_type) { case member: uint32 leaf_index;
 *              case external: uint32 sender_index; case new_member_commit, new_member_proposal: struct{}; } } Sender;
 *     struct { opaque group_id<V>; uint64 epoch; Sender sender; opaque authenticated_data<V>; ContentType content_type;
 *              select (content_type) { case application: opaque application_data<V>; case proposal: Proposal;
 *                                      case commit: Commit; } } FramedContent;
 *     struct { ProtocolVersion version = mls10; WireFormat wire_format; FramedContent content;
 *              select (sender_type) { case member, new_member_commit: GroupContext context; } } FramedContentTBS;
 *     struct { opaque signature<V>; select (content_type) { case commit: MAC confirmation_tag; } } FramedContentAuthData;
 *     signature = SignWithLabel(., "FramedContentTBS", FramedContentTBS)
 *     struct { WireFormat wire_format; FramedContent content; FramedContentAuthData auth; } AuthenticatedContent;
 *     struct { FramedContent content; FramedContentAuthData auth;
 *              select (sender_type) { case member: MAC membership_tag; } } PublicMessage;
 *     membership_tag = MAC(membership_key, AuthenticatedContentTBM = FramedContentTBS || FramedContentAuthData)
 */

import { signWithLabel, verifyWithLabel } from "../labeled-crypto.js";
import { type TlsReader, TlsWriter } from "../tls-codec.js";
import { readBytes } from "./codec.js";
import { type Commit, readCommit, writeCommit } from "./commit.js";
import { fail } from "./errors.js";
import { type GroupContext, writeGroupContext } from "./group-context.js";
import { type Proposal, readProposal, writeProposal } from "./proposals.js";
import { MLS_10, type Suite } from "./suite.js";

export const WireFormat = {
  publicMessage: 1,
  privateMessage: 2,
  welcome: 3,
  groupInfo: 4,
  keyPackage: 5,
} as const;
export const ContentType = { application: 1, proposal: 2, commit: 3 } as const;
export const SenderType = { member: 1, external: 2, newMemberProposal: 3, newMemberCommit: 4 } as const;

export type Sender =
  | { type: typeof SenderType.member; leafIndex: number }
  | { type: typeof SenderType.external; senderIndex: number }
  | { type: typeof SenderType.newMemberProposal }
  | { type: typeof SenderType.newMemberCommit };

export type Content =
  | { contentType: typeof ContentType.application; applicationData: Uint8Array }
  | { contentType: typeof ContentType.proposal; proposal: Proposal }
  | { contentType: typeof ContentType.commit; commit: Commit };

export type FramedContent = {
  groupId: Uint8Array;
  epoch: bigint;
  sender: Sender;
  authenticatedData: Uint8Array;
} & Content;

export interface FramedContentAuthData {
  signature: Uint8Array;
  /** Present iff the content is a commit. */
  confirmationTag?: Uint8Array;
}

export interface AuthenticatedContent {
  wireFormat: number;
  content: FramedContent;
  auth: FramedContentAuthData;
}

export interface PublicMessage {
  content: FramedContent;
  auth: FramedContentAuthData;
  /** Present iff the sender is a member. */
  membershipTag?: Uint8Array;
}

export function writeSender(w: TlsWriter, s: Sender): void {
  w.u8(s.type);
  if (s.type === SenderType.member) w.u32(s.leafIndex);
  else if (s.type === SenderType.external) w.u32(s.senderIndex);
}

export function readSender(r: TlsReader): Sender {
  const type = r.u8();
  if (type === SenderType.member) return { type, leafIndex: r.u32() };
  if (type === SenderType.external) return { type, senderIndex: r.u32() };
  if (type === SenderType.newMemberProposal || type === SenderType.newMemberCommit) return { type };
  return fail("malformed", `sender type ${type}`);
}

/** The content body alone (a PrivateMessageContent starts with it). */
export function writeContentBody(w: TlsWriter, c: Content): void {
  if (c.contentType === ContentType.application) w.vector(c.applicationData);
  else if (c.contentType === ContentType.proposal) writeProposal(w, c.proposal);
  else writeCommit(w, c.commit);
}

export function readContentBody(r: TlsReader, contentType: number): Content {
  if (contentType === ContentType.application) return { contentType, applicationData: readBytes(r) };
  if (contentType === ContentType.proposal) return { contentType, proposal: readProposal(r) };
  if (contentType === ContentType.commit) return { contentType, commit: readCommit(r) };
  return fail("malformed", `content type ${contentType}`);
}

export function writeFramedContent(w: TlsWriter, c: FramedContent): void {
  w.vector(c.groupId).u64(c.epoch);
  writeSender(w, c.sender);
  w.vector(c.authenticatedData).u8(c.contentType);
  writeContentBody(w, c);
}

export function readFramedContent(r: TlsReader): FramedContent {
  const groupId = readBytes(r);
  const epoch = r.u64();
  const sender = readSender(r);
  const authenticatedData = readBytes(r);
  const contentType = r.u8();
  return { groupId, epoch, sender, authenticatedData, ...readContentBody(r, contentType) };
}

export function writeAuthData(w: TlsWriter, auth: FramedContentAuthData, contentType: number): void {
  w.vector(auth.signature);
  if (contentType === ContentType.commit) {
    if (auth.confirmationTag === undefined) fail("malformed", "commit without confirmation tag");
    w.vector(auth.confirmationTag);
  }
}

export function readAuthData(r: TlsReader, contentType: number): FramedContentAuthData {
  const signature = readBytes(r);
  if (contentType === ContentType.commit) return { signature, confirmationTag: readBytes(r) };
  return { signature };
}

export function writePublicMessage(w: TlsWriter, m: PublicMessage): void {
  writeFramedContent(w, m.content);
  writeAuthData(w, m.auth, m.content.contentType);
  if (m.content.sender.type === SenderType.member) {
    if (m.membershipTag === undefined) fail("malformed", "member PublicMessage without membership tag");
    w.vector(m.membershipTag);
  }
}

export function readPublicMessage(r: TlsReader): PublicMessage {
  // §6.2 forbids application data in a PublicMessage; it still parses (the `messages` vectors have
  // one), and process-message.ts refuses it.
  const content = readFramedContent(r);
  const auth = readAuthData(r, content.contentType);
  if (content.sender.type === SenderType.member) return { content, auth, membershipTag: readBytes(r) };
  return { content, auth };
}

export function framedContentTbs(
  wireFormat: number,
  content: FramedContent,
  context: GroupContext | undefined,
): Uint8Array {
  const w = new TlsWriter().u16(MLS_10).u16(wireFormat);
  writeFramedContent(w, content);
  const t = content.sender.type;
  if (t === SenderType.member || t === SenderType.newMemberCommit) {
    if (context === undefined) fail("malformed", "member content needs the GroupContext");
    writeGroupContext(w, context);
  }
  return w.finish();
}

export async function signFramedContent(
  suite: Suite,
  signKey: Uint8Array,
  wireFormat: number,
  content: FramedContent,
  context: GroupContext | undefined,
): Promise<Uint8Array> {
  return signWithLabel(
    suite.signature,
    signKey,
    "FramedContentTBS",
    framedContentTbs(wireFormat, content, context),
  );
}

export function verifyFramedContent(
  suite: Suite,
  publicKey: Uint8Array,
  ac: AuthenticatedContent,
  context: GroupContext | undefined,
): Promise<boolean> {
  return verifyWithLabel(
    suite.signature,
    publicKey,
    "FramedContentTBS",
    framedContentTbs(ac.wireFormat, ac.content, context),
    ac.auth.signature,
  );
}

export function membershipTag(
  suite: Suite,
  membershipKey: Uint8Array,
  content: FramedContent,
  auth: FramedContentAuthData,
  context: GroupContext,
): Promise<Uint8Array> {
  const w = new TlsWriter().raw(framedContentTbs(WireFormat.publicMessage, content, context));
  writeAuthData(w, auth, content.contentType);
  return suite.hash.mac(membershipKey, w.finish());
}

export function encodeAuthenticatedContent(ac: AuthenticatedContent): Uint8Array {
  const w = new TlsWriter().u16(ac.wireFormat);
  writeFramedContent(w, ac.content);
  writeAuthData(w, ac.auth, ac.content.contentType);
  return w.finish();
}

/** ConfirmedTranscriptHashInput (§8.2): wire_format || FramedContent || signature<V>. */
export function confirmedTranscriptHashInput(ac: AuthenticatedContent): Uint8Array {
  const w = new TlsWriter().u16(ac.wireFormat);
  writeFramedContent(w, ac.content);
  return w.vector(ac.auth.signature).finish();
}
