import { createPublicKey, type KeyObject, verify } from "node:crypto";
import { ed25519 } from "@noble/curves/ed25519.js";

/** DER header of an Ed25519 SubjectPublicKeyInfo; the 32-byte raw key follows it. */
const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

export function ed25519PublicKey(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new Error("an Ed25519 public key is 32 bytes");
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: "der", type: "spki" });
}

/** False for any failure: a wrong signature, a malformed key or signature. Never throws. */
export function verifyEd25519(publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== 64) return false;
  try {
    return verify(null, data, ed25519PublicKey(publicKey), signature);
  } catch {
    return false;
  }
}

/**
 * Whether 32 bytes are a public key worth accepting: the canonical encoding (RFC 8032: y below the
 * field prime, no "negative zero" x) of a point on the curve that is not of small order. A
 * small-order key has no secret behind it: signatures "by" it can be made for any message by anyone
 * under verifiers that accept them, so a queue with such a key would have no real owner.
 */
export function isUsablePublicKey(raw: Uint8Array): boolean {
  if (raw.length !== 32) return false;
  try {
    return !ed25519.Point.fromBytes(raw, false).isSmallOrder();
  } catch {
    return false;
  }
}
