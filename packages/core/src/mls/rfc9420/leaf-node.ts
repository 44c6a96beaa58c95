/**
 * LeafNode, RFC 9420 §7.2, and its signature:
 *
 *     struct { HPKEPublicKey encryption_key; SignaturePublicKey signature_key; Credential credential;
 *              Capabilities capabilities; LeafNodeSource leaf_node_source;
 *              select (leaf_node_source) { case key_package: Lifetime lifetime;
 *                                          case update: struct{};
 *                                          case commit: opaque parent_hash<V>; };
 *              Extension extensions<V>; opaque signature<V>; } LeafNode;
 *
 *     LeafNodeTBS = the fields above without the signature, then
 *                   select (leaf_node_source) { case key_package: struct{};
 *                                               case update, commit: opaque group_id<V>; uint32 leaf_index; }
 *     signature   = SignWithLabel(signature_key, "LeafNodeTBS", LeafNodeTBS)
 *
 * The encoded form of a leaf is cached (WeakMap on the value): a tree hashes and serializes the same
 * leaves again and again, and LeafNode values are never mutated once built.
 */

import { signWithLabel, verifyWithLabel } from "../labeled-crypto.js";
import { type TlsReader, TlsWriter, varintSize } from "../tls-codec.js";
import { readBytes, readU16List, writeU16List } from "./codec.js";
import { type Credential, readCredential, writeCredential } from "./credential.js";
import { fail } from "./errors.js";
import { type Extension, readExtensions, writeExtensions } from "./extensions.js";
import type { Suite } from "./suite.js";

export interface Capabilities {
  versions: number[];
  cipherSuites: number[];
  extensions: number[];
  proposals: number[];
  credentials: number[];
}

export interface Lifetime {
  notBefore: bigint;
  notAfter: bigint;
}

export const LeafNodeSource = { keyPackage: 1, update: 2, commit: 3 } as const;
export type LeafNodeSourceValue = (typeof LeafNodeSource)[keyof typeof LeafNodeSource];

export interface LeafNode {
  encryptionKey: Uint8Array;
  signatureKey: Uint8Array;
  credential: Credential;
  capabilities: Capabilities;
  source: LeafNodeSourceValue;
  /** Present iff source is key_package. */
  lifetime?: Lifetime;
  /** Present iff source is commit. */
  parentHash?: Uint8Array;
  extensions: Extension[];
  signature: Uint8Array;
}

export function writeCapabilities(w: TlsWriter, c: Capabilities): void {
  writeU16List(w, c.versions);
  writeU16List(w, c.cipherSuites);
  writeU16List(w, c.extensions);
  writeU16List(w, c.proposals);
  writeU16List(w, c.credentials);
}

export function readCapabilities(r: TlsReader): Capabilities {
  return {
    versions: readU16List(r),
    cipherSuites: readU16List(r),
    extensions: readU16List(r),
    proposals: readU16List(r),
    credentials: readU16List(r),
  };
}

function writeLeafContent(w: TlsWriter, leaf: Omit<LeafNode, "signature">): void {
  w.vector(leaf.encryptionKey).vector(leaf.signatureKey);
  writeCredential(w, leaf.credential);
  writeCapabilities(w, leaf.capabilities);
  w.u8(leaf.source);
  if (leaf.source === LeafNodeSource.keyPackage) {
    if (leaf.lifetime === undefined) fail("malformed", "key_package leaf without lifetime");
    w.u64(leaf.lifetime.notBefore).u64(leaf.lifetime.notAfter);
  } else if (leaf.source === LeafNodeSource.commit) {
    if (leaf.parentHash === undefined) fail("malformed", "commit leaf without parent_hash");
    w.vector(leaf.parentHash);
  }
  writeExtensions(w, leaf.extensions);
}

const encodedLeaves = new WeakMap<LeafNode, Uint8Array>();

export function encodeLeafNode(leaf: LeafNode): Uint8Array {
  let bytes = encodedLeaves.get(leaf);
  if (bytes === undefined) {
    const w = new TlsWriter();
    writeLeafContent(w, leaf);
    w.vector(leaf.signature);
    bytes = w.finish();
    encodedLeaves.set(leaf, bytes);
  }
  return bytes;
}

export function writeLeafNode(w: TlsWriter, leaf: LeafNode): void {
  w.raw(encodeLeafNode(leaf));
}

export function readLeafNode(r: TlsReader): LeafNode {
  const start = r.position;
  const leaf = readLeafFields(r);
  // The bytes just read are the leaf's canonical encoding (no field has two encodings): kept, so a
  // received tree is hashed and stored without encoding its leaves again.
  encodedLeaves.set(leaf, r.copy(start, r.position));
  return leaf;
}

function readLeafFields(r: TlsReader): LeafNode {
  const encryptionKey = readBytes(r);
  const signatureKey = readBytes(r);
  const credential = readCredential(r);
  const capabilities = readCapabilities(r);
  const source = r.u8();
  let lifetime: Lifetime | undefined;
  let parentHash: Uint8Array | undefined;
  if (source === LeafNodeSource.keyPackage) lifetime = { notBefore: r.u64(), notAfter: r.u64() };
  else if (source === LeafNodeSource.commit) parentHash = readBytes(r);
  else if (source !== LeafNodeSource.update) fail("malformed", `leaf_node_source ${source}`);
  const extensions = readExtensions(r);
  const signature = readBytes(r);
  return {
    encryptionKey,
    signatureKey,
    credential,
    capabilities,
    source: source as LeafNodeSourceValue,
    ...(lifetime !== undefined ? { lifetime } : {}),
    ...(parentHash !== undefined ? { parentHash } : {}),
    extensions,
    signature,
  };
}

/** Where a leaf sits, for update and commit leaves (§7.2: their TBS binds group and position). */
export interface LeafContext {
  groupId: Uint8Array;
  leafIndex: number;
}

export function leafNodeTbs(leaf: Omit<LeafNode, "signature">, context?: LeafContext): Uint8Array {
  // A leaf with a cached encoding (received or encoded before): its content is that encoding minus
  // the signature vector at the end — no second encoding of the leaf per signature check.
  const encoded = "signature" in leaf ? encodedLeaves.get(leaf as LeafNode) : undefined;
  if (encoded !== undefined) {
    const sig = (leaf as LeafNode).signature;
    const content = encoded.subarray(0, encoded.length - varintSize(sig.length) - sig.length);
    if (leaf.source === LeafNodeSource.keyPackage) return content;
    if (context === undefined) fail("malformed", "update/commit leaf needs group id and leaf index");
    return new TlsWriter(content.length + context.groupId.length + 8)
      .raw(content)
      .vector(context.groupId)
      .u32(context.leafIndex)
      .finish();
  }
  const w = new TlsWriter();
  writeLeafContent(w, leaf);
  if (leaf.source !== LeafNodeSource.keyPackage) {
    if (context === undefined) fail("malformed", "update/commit leaf needs group id and leaf index");
    w.vector(context.groupId).u32(context.leafIndex);
  }
  return w.finish();
}

export async function signLeafNode(
  suite: Suite,
  signKey: Uint8Array,
  leaf: Omit<LeafNode, "signature">,
  context?: LeafContext,
): Promise<LeafNode> {
  const signature = await signWithLabel(suite.signature, signKey, "LeafNodeTBS", leafNodeTbs(leaf, context));
  return { ...leaf, signature };
}

export function verifyLeafNodeSignature(
  suite: Suite,
  leaf: LeafNode,
  context?: LeafContext,
): Promise<boolean> {
  return verifyWithLabel(
    suite.signature,
    leaf.signatureKey,
    "LeafNodeTBS",
    leafNodeTbs(leaf, context),
    leaf.signature,
  );
}
