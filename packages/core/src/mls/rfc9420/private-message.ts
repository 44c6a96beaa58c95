/**
 * PrivateMessage, RFC 9420 §6.3:
 *
 *     struct { opaque group_id<V>; uint64 epoch; ContentType content_type; opaque authenticated_data<V>;
 *              opaque encrypted_sender_data<V>; opaque ciphertext<V>; } PrivateMessage;
 *     struct { select (content_type) { …body… }; FramedContentAuthData auth; opaque padding[length_of_padding]; }
 *         PrivateMessageContent;                  // padding: all zero octets
 *     struct { opaque group_id<V>; uint64 epoch; ContentType content_type; opaque authenticated_data<V>; }
 *         PrivateContentAAD;
 *     ciphertext = AEAD.Seal(ratchet key of (sender, generation), nonce XOR reuse_guard, PrivateContentAAD, content)
 *
 * The key comes from the sender's handshake ratchet for proposals and commits and from its application
 * ratchet for application data (§9.1); sender data (leaf, generation, reuse guard) is encrypted as in
 * sender-data.ts (§6.3.2).
 */

import { decryptSenderData, encryptSenderData, SenderDataError } from "../sender-data.js";
import { TlsReader, TlsWriter } from "../tls-codec.js";
import { readBytes } from "./codec.js";
import { decodeOrFail, fail, MlsError } from "./errors.js";
import {
  type Content,
  ContentType,
  type FramedContent,
  type FramedContentAuthData,
  readAuthData,
  readContentBody,
  SenderType,
  writeAuthData,
  writeContentBody,
} from "./framing.js";
import type { SecretTree } from "./secret-tree.js";
import type { Suite } from "./suite.js";

export interface PrivateMessage {
  groupId: Uint8Array;
  epoch: bigint;
  contentType: number;
  authenticatedData: Uint8Array;
  encryptedSenderData: Uint8Array;
  ciphertext: Uint8Array;
}

export function writePrivateMessage(w: TlsWriter, m: PrivateMessage): void {
  w.vector(m.groupId).u64(m.epoch).u8(m.contentType).vector(m.authenticatedData);
  w.vector(m.encryptedSenderData).vector(m.ciphertext);
}

export function readPrivateMessage(r: TlsReader): PrivateMessage {
  const groupId = readBytes(r);
  const epoch = r.u64();
  const contentType = r.u8();
  if (contentType < 1 || contentType > 3) fail("malformed", `content type ${contentType}`);
  return {
    groupId,
    epoch,
    contentType,
    authenticatedData: readBytes(r),
    encryptedSenderData: readBytes(r),
    ciphertext: readBytes(r),
  };
}

function contentAad(
  groupId: Uint8Array,
  epoch: bigint,
  contentType: number,
  authenticatedData: Uint8Array,
): Uint8Array {
  return new TlsWriter().vector(groupId).u64(epoch).u8(contentType).vector(authenticatedData).finish();
}

function applyReuseGuard(nonce: Uint8Array, guard: Uint8Array): Uint8Array {
  const out = nonce.slice();
  for (let i = 0; i < 4; i++) out[i]! ^= guard[i]!;
  return out;
}

const ratchetFor = (contentType: number) =>
  contentType === ContentType.application ? "application" : "handshake";

export interface ProtectInput {
  content: FramedContent;
  auth: FramedContentAuthData;
  senderDataSecret: Uint8Array;
  /** Mutated: the sender's ratchet advances. Pass a clone the caller keeps only on success. */
  secretTree: SecretTree;
  paddingLength?: number;
  reuseGuard: Uint8Array;
}

export async function protect(suite: Suite, p: ProtectInput): Promise<PrivateMessage> {
  const c = p.content;
  if (c.sender.type !== SenderType.member) fail("malformed", "only members send PrivateMessages");
  const w = new TlsWriter();
  writeContentBody(w, c);
  writeAuthData(w, p.auth, c.contentType);
  w.raw(new Uint8Array(p.paddingLength ?? 0));
  const plaintext = w.finish();
  const { key, nonce, generation } = await p.secretTree.next(c.sender.leafIndex, ratchetFor(c.contentType));
  const aad = contentAad(c.groupId, c.epoch, c.contentType, c.authenticatedData);
  const ciphertext = await suite.hpke.encryptAead(key, applyReuseGuard(nonce, p.reuseGuard), aad, plaintext);
  const encryptedSenderData = await encryptSenderData(
    suite,
    p.senderDataSecret,
    { groupId: c.groupId, epoch: c.epoch, contentType: c.contentType, ciphertext },
    { leafIndex: c.sender.leafIndex, generation, reuseGuard: p.reuseGuard },
  );
  return {
    groupId: c.groupId,
    epoch: c.epoch,
    contentType: c.contentType,
    authenticatedData: c.authenticatedData,
    encryptedSenderData,
    ciphertext,
  };
}

export interface Unprotected {
  content: FramedContent;
  auth: FramedContentAuthData;
  generation: number;
}

/**
 * Opens a PrivateMessage. `secretTree` is mutated (the key is consumed): callers pass a clone and
 * keep it only if everything after (signature, membership) checks out.
 */
export async function unprotect(
  suite: Suite,
  m: PrivateMessage,
  senderDataSecret: Uint8Array,
  secretTree: SecretTree,
): Promise<Unprotected> {
  let sd: Awaited<ReturnType<typeof decryptSenderData>>;
  try {
    sd = await decryptSenderData(suite, senderDataSecret, m);
  } catch (e) {
    if (e instanceof SenderDataError) throw new MlsError("decrypt-failed", e.message);
    throw e;
  }
  if (sd.leafIndex >= secretTree.leafCount) fail("malformed", `sender leaf ${sd.leafIndex} outside the tree`);
  const { key, nonce } = await secretTree.consume(sd.leafIndex, ratchetFor(m.contentType), sd.generation);
  const aad = contentAad(m.groupId, m.epoch, m.contentType, m.authenticatedData);
  let plaintext: Uint8Array;
  try {
    plaintext = await suite.hpke.decryptAead(key, applyReuseGuard(nonce, sd.reuseGuard), aad, m.ciphertext);
  } catch {
    fail("decrypt-failed", "PrivateMessage content does not decrypt");
  }
  const { body, auth } = decodeOrFail("PrivateMessageContent", () => {
    const r = new TlsReader(plaintext);
    const body: Content = readContentBody(r, m.contentType);
    const auth = readAuthData(r, m.contentType);
    const padding = r.raw(r.remaining);
    if (!padding.every((b) => b === 0)) fail("malformed", "non-zero padding");
    return { body, auth };
  });
  const content: FramedContent = {
    groupId: m.groupId,
    epoch: m.epoch,
    sender: { type: SenderType.member, leafIndex: sd.leafIndex },
    authenticatedData: m.authenticatedData,
    ...body,
  };
  return { content, auth, generation: sd.generation };
}
