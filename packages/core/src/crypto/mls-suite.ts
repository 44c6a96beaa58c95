/**
 * An MLS cipher suite as Parley's providers implement it and the RFC 9420 engine (mls/rfc9420/) uses
 * it: RFC 9420 §5.1's hash (with HMAC), KDF (HKDF), HPKE (RFC 9180, with the suite's AEAD), signature
 * scheme, and randomness. Parley's own type, so that product code needs nothing of ts-mls (issue 10:
 * ts-mls is a development dependency, the reference for differential tests).
 *
 * The members have the names and signatures of ts-mls' CiphersuiteImpl, so that TsMlsEngine (entry
 * `@parley/core/ts-mls`, tests and benchmarks only) can hand a provider's suite to ts-mls as it is;
 * only HPKE keys differ in type: opaque here (a provider's own objects, only ever handed back to the
 * Hpke that made them), CryptoKeys in ts-mls' declarations.
 */

/** Failure of a primitive or of HPKE (bad key length, bad tag, all-zero shared secret …). */
export class CryptoError extends Error {
  override name = "CryptoError";
}

/** An HPKE public key of a provider's Hpke: opaque to callers, which only pass it back. */
export interface HpkePublicKey {
  readonly type: "public";
}
/** An HPKE private key of a provider's Hpke: opaque to callers, which only pass it back. */
export interface HpkePrivateKey {
  readonly type: "private";
}

export interface MlsHash {
  digest(data: Uint8Array): Promise<Uint8Array>;
  /** HMAC with the suite's hash. */
  mac(key: Uint8Array, data: Uint8Array): Promise<Uint8Array>;
  verifyMac(key: Uint8Array, mac: Uint8Array, data: Uint8Array): Promise<boolean>;
  /** The digest synchronously, where the implementation is synchronous underneath (tree hashing). */
  digestSync?: (data: Uint8Array) => Uint8Array;
}

export interface MlsKdf {
  extract(salt: Uint8Array, ikm: Uint8Array): Promise<Uint8Array>;
  expand(prk: Uint8Array, info: Uint8Array, length: number): Promise<Uint8Array>;
  /** Nh. */
  size: number;
}

/** RFC 9180 mode_base single-shot HPKE, plus the suite's AEAD on its own (RFC 9420 §6.3). */
export interface MlsHpke {
  seal(
    publicKey: HpkePublicKey,
    plaintext: Uint8Array,
    info: Uint8Array,
    aad?: Uint8Array,
  ): Promise<{ ct: Uint8Array; enc: Uint8Array }>;
  open(
    privateKey: HpkePrivateKey,
    kemOutput: Uint8Array,
    ciphertext: Uint8Array,
    info: Uint8Array,
    aad?: Uint8Array,
  ): Promise<Uint8Array>;
  importPrivateKey(k: Uint8Array): Promise<HpkePrivateKey>;
  importPublicKey(k: Uint8Array): Promise<HpkePublicKey>;
  exportPublicKey(k: HpkePublicKey): Promise<Uint8Array>;
  exportPrivateKey(k: HpkePrivateKey): Promise<Uint8Array>;
  encryptAead(
    key: Uint8Array,
    nonce: Uint8Array,
    aad: Uint8Array | undefined,
    plaintext: Uint8Array,
  ): Promise<Uint8Array>;
  decryptAead(
    key: Uint8Array,
    nonce: Uint8Array,
    aad: Uint8Array | undefined,
    ciphertext: Uint8Array,
  ): Promise<Uint8Array>;
  /** SendExport (RFC 9180 §6.2 single-shot export): enc and the exported secret. */
  exportSecret(
    publicKey: HpkePublicKey,
    exporterContext: Uint8Array,
    length: number,
    info: Uint8Array,
  ): Promise<{ enc: Uint8Array; secret: Uint8Array }>;
  importSecret(
    privateKey: HpkePrivateKey,
    exporterContext: Uint8Array,
    kemOutput: Uint8Array,
    length: number,
    info: Uint8Array,
  ): Promise<Uint8Array>;
  deriveKeyPair(ikm: Uint8Array): Promise<{ privateKey: HpkePrivateKey; publicKey: HpkePublicKey }>;
  generateKeyPair(): Promise<{ privateKey: HpkePrivateKey; publicKey: HpkePublicKey }>;
  /** Nk and Nn of the AEAD. */
  keyLength: number;
  nonceLength: number;
}

export interface MlsSignature {
  sign(signKey: Uint8Array, message: Uint8Array): Promise<Uint8Array>;
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean>;
  keygen(): Promise<{ publicKey: Uint8Array; signKey: Uint8Array }>;
}

export interface MlsRng {
  randomBytes(n: number): Uint8Array;
}

export interface MlsSuite {
  /** The RFC 9420 cipher suite id (1; 0xF00D for X-Wing). */
  id: number;
  hash: MlsHash;
  kdf: MlsKdf;
  hpke: MlsHpke;
  signature: MlsSignature;
  rng: MlsRng;
}
