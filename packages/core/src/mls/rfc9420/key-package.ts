/**
 * KeyPackages, RFC 9420 §10:
 *
 *     struct { ProtocolVersion version; CipherSuite cipher_suite; HPKEPublicKey init_key; LeafNode leaf_node;
 *              Extension extensions<V>; opaque signature<V>; } KeyPackage;   // signature over KeyPackageTBS
 *     KeyPackageRef = RefHash("MLS 1.0 KeyPackage Reference", KeyPackage)   (§5.2)
 *
 * §10.1 validation: suite and version match the group; the leaf is a valid key_package leaf (§7.3)
 * whose signature verifies; the KeyPackage signature verifies; init_key ≠ encryption_key.
 * §13.5 GREASE: a KeyPackage we make may carry GREASE extension types, and every one of them is also
 * listed in the leaf's capabilities.extensions, so a strict peer's §7.3 check ("every extension in the
 * LeafNode is listed in its capabilities") passes. Parley advertises suite 1 and basic credentials only.
 */

import { equalBytes } from "../../encoding/bytes.js";
import { refHash, signWithLabel, verifyWithLabel } from "../labeled-crypto.js";
import { type TlsReader, TlsWriter } from "../tls-codec.js";
import { readBytes } from "./codec.js";
import { fail } from "./errors.js";
import { type Extension, isGrease, readExtensions, writeExtensions } from "./extensions.js";
import {
  type LeafNode,
  LeafNodeSource,
  readLeafNode,
  verifyLeafNodeSignature,
  writeLeafNode,
} from "./leaf-node.js";
import { MLS_10, type Suite } from "./suite.js";

export interface KeyPackage {
  version: number;
  cipherSuite: number;
  initKey: Uint8Array;
  leafNode: LeafNode;
  extensions: Extension[];
  signature: Uint8Array;
}

function writeTbs(w: TlsWriter, kp: Omit<KeyPackage, "signature">): void {
  w.u16(kp.version).u16(kp.cipherSuite).vector(kp.initKey);
  writeLeafNode(w, kp.leafNode);
  writeExtensions(w, kp.extensions);
}

export function writeKeyPackage(w: TlsWriter, kp: KeyPackage): void {
  writeTbs(w, kp);
  w.vector(kp.signature);
}

export function readKeyPackage(r: TlsReader): KeyPackage {
  const version = r.u16();
  if (version !== MLS_10) fail("unsupported", `KeyPackage version ${version}`);
  return {
    version,
    cipherSuite: r.u16(),
    initKey: readBytes(r),
    leafNode: readLeafNode(r),
    extensions: readExtensions(r),
    signature: readBytes(r),
  };
}

export function encodeKeyPackage(kp: KeyPackage): Uint8Array {
  const w = new TlsWriter();
  writeKeyPackage(w, kp);
  return w.finish();
}

export const keyPackageTbs = (kp: Omit<KeyPackage, "signature">): Uint8Array => {
  const w = new TlsWriter();
  writeTbs(w, kp);
  return w.finish();
};

export const keyPackageRef = (suite: Suite, kp: KeyPackage): Promise<Uint8Array> =>
  refHash(suite.hash, "MLS 1.0 KeyPackage Reference", encodeKeyPackage(kp));

export async function signKeyPackage(
  suite: Suite,
  signKey: Uint8Array,
  kp: Omit<KeyPackage, "signature">,
): Promise<KeyPackage> {
  return {
    ...kp,
    signature: await signWithLabel(suite.signature, signKey, "KeyPackageTBS", keyPackageTbs(kp)),
  };
}

/**
 * §10.1: the checks that need nothing but the KeyPackage itself. Group-dependent checks (required
 * capabilities, key uniqueness, credential support) are the group's (§7.3, see leaf-validation.ts).
 */
/**
 * KeyPackage values whose two signatures verified (by identity; decoded values are never mutated):
 * a KeyPackage is checked when the application accepts it and again when its Add is applied, and
 * a verification is a pure function of the bytes, so the second time reuses the first's result.
 * Every other check runs each time.
 */
const signaturesVerified = new WeakSet<KeyPackage>();

export async function validateKeyPackage(suite: Suite, kp: KeyPackage, nowSeconds?: bigint): Promise<void> {
  if (kp.cipherSuite !== suite.id) fail("invalid-key-package", `cipher suite ${kp.cipherSuite}`);
  const leaf = kp.leafNode;
  if (leaf.source !== LeafNodeSource.keyPackage)
    fail("invalid-key-package", "leaf source is not key_package");
  if (equalBytes(kp.initKey, leaf.encryptionKey))
    fail("invalid-key-package", "init_key equals encryption_key");
  if (!leaf.capabilities.versions.includes(kp.version))
    fail("invalid-key-package", "version not in capabilities");
  if (!leaf.capabilities.cipherSuites.includes(kp.cipherSuite)) {
    fail("invalid-key-package", "cipher suite not in capabilities");
  }
  if (nowSeconds !== undefined && leaf.lifetime !== undefined) {
    if (leaf.lifetime.notBefore > nowSeconds || leaf.lifetime.notAfter < nowSeconds) {
      fail("invalid-key-package", "outside its lifetime");
    }
  }
  if (signaturesVerified.has(kp)) return;
  // Both asked for at once: KeyPackages checked together then make one burst of verifications, which
  // a provider can spread over threads; one after the other, each waited for the one before.
  const [leafOk, kpOk] = await Promise.all([
    verifyLeafNodeSignature(suite, leaf),
    verifyWithLabel(suite.signature, leaf.signatureKey, "KeyPackageTBS", keyPackageTbs(kp), kp.signature),
  ]);
  if (!leafOk) fail("bad-signature", "KeyPackage leaf node signature");
  if (!kpOk) fail("bad-signature", "KeyPackage signature");
  signaturesVerified.add(kp);
}

/** Whether validateKeyPackage verified this KeyPackage's signatures (its leaf's among them). */
export const keyPackageSignaturesVerified = (kp: KeyPackage): boolean => signaturesVerified.has(kp);

/** §13.5 + §7.2: GREASE extension types in the KeyPackage or leaf are listed in the leaf's capabilities. */
export function greaseConsistent(kp: KeyPackage): boolean {
  const listed = new Set(kp.leafNode.capabilities.extensions);
  return [...kp.extensions, ...kp.leafNode.extensions].every((e) => !isGrease(e.type) || listed.has(e.type));
}
