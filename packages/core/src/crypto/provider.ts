/**
 * The one crypto seam. Everything in core that needs a primitive asks a CryptoProvider, so that a
 * faster native implementation (node:crypto, WebCrypto) can replace the portable one without
 * touching callers. Only well-known primitives live here; no protocol is invented on top of them.
 */
import type { MlsSuite } from "./mls-suite.js";

export interface Ed25519KeyPair {
  publicKey: Uint8Array; // 32 bytes
  secretKey: Uint8Array; // 32-byte seed
}

export interface CryptoProvider {
  readonly name: string;
  randomBytes(length: number): Uint8Array;
  sha256(data: Uint8Array): Promise<Uint8Array>;
  sha512(data: Uint8Array): Promise<Uint8Array>;
  ed25519Generate(): Promise<Ed25519KeyPair>;
  ed25519Sign(secretKey: Uint8Array, message: Uint8Array): Promise<Uint8Array>;
  ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean>;
  /** XChaCha20-Poly1305 with a random 24-byte nonce prepended: output is nonce ‖ ciphertext ‖ tag. */
  seal(key: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Promise<Uint8Array>;
  open(key: Uint8Array, sealed: Uint8Array, aad?: Uint8Array): Promise<Uint8Array>;
  /** The MLS cipher suite's primitives (mls-suite.ts), for the MLS engine. */
  mlsCiphersuite(name: MlsCiphersuiteName): Promise<MlsSuite>;
}

/**
 * The MLS cipher suites Parley speaks (docs/protocol.md): suite 1 (RFC 9420's mandatory one) and,
 * for post-quantum groups, X-Wing (0xF00D, xwing-suite.ts).
 */
export type MlsCiphersuiteName =
  | "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519"
  | "MLS_256_XWING_AES256GCM_SHA512_Ed25519";
export const DEFAULT_MLS_CIPHERSUITE: MlsCiphersuiteName = "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519";
export const PQ_MLS_CIPHERSUITE: MlsCiphersuiteName = "MLS_256_XWING_AES256GCM_SHA512_Ed25519";
/** RFC 9420 cipher suite ids of the names above. */
export const MLS_CIPHERSUITE_IDS: Record<MlsCiphersuiteName, number> = {
  MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519: 1,
  MLS_256_XWING_AES256GCM_SHA512_Ed25519: 0xf00d,
};

export class DecryptionError extends Error {
  override name = "DecryptionError";
}
