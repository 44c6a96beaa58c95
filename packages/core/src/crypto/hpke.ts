/**
 * HPKE (RFC 9180), mode_base single-shot, composed once over primitives the caller brings: an HMAC
 * (for HKDF, RFC 5869), an AEAD and a KEM. Every suite of every provider is made here:
 *
 *   - suite 1, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM — over node:crypto (node-hpke.ts:
 *     X25519 on cached KeyObjects, seals shared with a worker thread) and over @noble (noble-provider.ts);
 *   - X-Wing, HKDF-SHA512, AES-256-GCM (xwing-suite.ts), whose KEM is X-Wing's own (no DHKEM).
 *
 * Nothing here is a primitive: HKDF, LabeledExtract/LabeledExpand (§4), DHKEM (§4.1), the key schedule
 * (§5.1), single-shot seal/open (§6.1) and the exporter (§5.3, §6.2) are the RFC's compositions. Each
 * is checked against RFC 9180's own test vector under both providers (test/node-provider.test.ts).
 * Secrets are zeroed once used. Everything is synchronous underneath (the seal worker runs it as is);
 * makeHpke wraps it in the asynchronous MlsHpke the MLS engine calls.
 */
import { concatBytes, equalBytes } from "../encoding/bytes.js";
import {
  CryptoError,
  type HpkePrivateKey,
  type HpkePublicKey,
  type MlsHpke,
  type MlsKdf,
} from "./mls-suite.js";

/** HMAC with a KDF's hash, over the concatenation of `parts` (an implementation may stream them). */
export interface HmacKdf {
  /** HPKE kdf_id. */
  readonly id: number;
  /** Nh: the hash's output size. */
  readonly nh: number;
  hmac(key: Uint8Array, parts: readonly Uint8Array[]): Uint8Array;
}

/** RFC 5869 HKDF-Extract: HMAC(salt, ikm); an empty salt is HMAC's zero-padded empty key, as Nh zeros. */
export const hkdfExtract = (kdf: HmacKdf, salt: Uint8Array, ikm: Uint8Array): Uint8Array =>
  kdf.hmac(salt, [ikm]);

/** RFC 5869 HKDF-Expand. */
export function hkdfExpand(kdf: HmacKdf, prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  if (length > 255 * kdf.nh) throw new CryptoError("HKDF-Expand: length too large");
  const out = new Uint8Array(length);
  let previous: Uint8Array = new Uint8Array(0);
  for (let i = 1, offset = 0; offset < length; i++) {
    const next = kdf.hmac(prk, [previous, info, Uint8Array.of(i)]);
    previous.fill(0);
    previous = next;
    out.set(previous.subarray(0, Math.min(previous.length, length - offset)), offset);
    offset += previous.length;
  }
  previous.fill(0);
  return out;
}

/** The MLS suite's KDF (RFC 9420 §5.1: HKDF with the suite's hash). */
export function mlsKdf(kdf: HmacKdf): MlsKdf {
  return {
    size: kdf.nh,
    extract: async (salt, ikm) => hkdfExtract(kdf, salt, ikm),
    expand: async (prk, info, length) => hkdfExpand(kdf, prk, info, length),
  };
}

/** An AEAD (RFC 9180 §7.3); `open` throws on a bad tag. */
export interface HpkeAead {
  readonly id: number;
  readonly nk: number;
  readonly nn: number;
  seal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array;
  open(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Uint8Array;
}

/** A KEM (RFC 9180 §4) over keys of type K; Encap draws a fresh ephemeral unless one is given. */
export interface HpkeKem<K> {
  readonly id: number;
  encap(publicKey: K, ephemeral?: K): { enc: Uint8Array; sharedSecret: Uint8Array };
  decap(privateKey: K, enc: Uint8Array): Uint8Array;
  deriveKeyPair(ikm: Uint8Array): { privateKey: K; publicKey: K };
  generateKeyPair(): { privateKey: K; publicKey: K };
  importPublicKey(raw: Uint8Array): K;
  importPrivateKey(raw: Uint8Array): K;
  exportPublicKey(key: K): Uint8Array;
  exportPrivateKey(key: K): Uint8Array;
}

const utf8 = new TextEncoder();
const HPKE_V1 = utf8.encode("HPKE-v1");
const EMPTY = new Uint8Array(0);
const u16 = (n: number) => Uint8Array.of(n >> 8, n & 0xff);

const concat = (parts: readonly Uint8Array[]): Uint8Array => concatBytes(...parts);

/** Labels as bytes, encoded once (they are a handful of constants). */
const labels = new Map<string, Uint8Array>();
const labelBytes = (label: string): Uint8Array => {
  let b = labels.get(label);
  if (b === undefined) {
    b = utf8.encode(label);
    labels.set(label, b);
  }
  return b;
};

/** §4: LabeledExtract and LabeledExpand under one suite_id. */
export function labeledKdf(kdf: HmacKdf, suiteId: Uint8Array) {
  return {
    /** LabeledExtract(salt, label, ikm) = Extract(salt, "HPKE-v1" ‖ suite_id ‖ label ‖ ikm). */
    extract: (salt: Uint8Array, label: string, ikm: Uint8Array): Uint8Array =>
      kdf.hmac(salt, [HPKE_V1, suiteId, labelBytes(label), ikm]),
    /** LabeledExpand(prk, label, info, L) = Expand(prk, I2OSP(L, 2) ‖ "HPKE-v1" ‖ suite_id ‖ label ‖ info, L). */
    expand: (prk: Uint8Array, label: string, info: Uint8Array, length: number): Uint8Array =>
      hkdfExpand(kdf, prk, concat([u16(length), HPKE_V1, suiteId, labelBytes(label), info]), length),
  };
}

/** The Diffie-Hellman group of a DHKEM (§4.1): X25519 for suite 1. */
export interface DhGroup<K> {
  /** HPKE kem_id of DHKEM over this group with the given KDF. */
  readonly kemId: number;
  /** Nsk, Npk (= Nenc), Ndh. */
  readonly nsk: number;
  /** A public key from its bytes (throws CryptoError on a bad one). */
  importPublic(raw: Uint8Array): K;
  /** A private key from its bytes, with its public key (throws CryptoError on a bad one). */
  importPrivate(raw: Uint8Array): K;
  /** A fresh private key (with its public key). */
  generate(): K;
  /** A fresh private key for one encapsulation (its private bytes need not be kept). */
  ephemeral?(): K;
  publicBytes(key: K): Uint8Array;
  /** The private key's bytes; throws CryptoError for a public key. */
  privateBytes(key: K): Uint8Array;
  /** DH(sk, pk); throws CryptoError on an all-zero result. */
  dh(privateKey: K, publicKey: K): Uint8Array;
}

/**
 * DHKEM(Group, KDF), RFC 9180 §4.1, for groups whose DeriveKeyPair takes the expanded bytes as the
 * private key as they are (X25519, X448: §7.1.3).
 */
export function dhkem<K>(group: DhGroup<K>, kdf: HmacKdf): HpkeKem<K> {
  const kemSuiteId = concat([utf8.encode("KEM"), u16(group.kemId)]);
  const l = labeledKdf(kdf, kemSuiteId);
  /** ExtractAndExpand(dh, kem_context). */
  function sharedSecret(dhValue: Uint8Array, enc: Uint8Array, pkRm: Uint8Array): Uint8Array {
    const prk = l.extract(EMPTY, "eae_prk", dhValue);
    try {
      return l.expand(prk, "shared_secret", concat([enc, pkRm]), kdf.nh);
    } finally {
      prk.fill(0);
    }
  }
  const pair = (privateKey: K) => ({
    privateKey,
    publicKey: group.importPublic(group.publicBytes(privateKey)),
  });
  return {
    id: group.kemId,
    encap(pkR, ephemeral = group.ephemeral?.() ?? group.generate()) {
      const dh = group.dh(ephemeral, pkR);
      const enc = group.publicBytes(ephemeral).slice();
      try {
        return { enc, sharedSecret: sharedSecret(dh, enc, group.publicBytes(pkR)) };
      } finally {
        dh.fill(0);
      }
    },
    decap(skR, enc) {
      const dh = group.dh(skR, group.importPublic(enc));
      try {
        return sharedSecret(dh, enc, group.publicBytes(skR));
      } finally {
        dh.fill(0);
      }
    },
    deriveKeyPair(ikm) {
      const prk = l.extract(EMPTY, "dkp_prk", ikm);
      const sk = l.expand(prk, "sk", EMPTY, group.nsk);
      try {
        return pair(group.importPrivate(sk));
      } finally {
        sk.fill(0);
        prk.fill(0);
      }
    },
    generateKeyPair: () => pair(group.generate()),
    importPublicKey: (raw) => group.importPublic(raw),
    importPrivateKey: (raw) => group.importPrivate(raw),
    exportPublicKey: (key) => group.publicBytes(key).slice(),
    exportPrivateKey: (key) => group.privateBytes(key).slice(),
  };
}

/** What makeHpke gives: the MlsHpke, and single-shot seal synchronously (for a worker thread, tests). */
export interface Hpke<K> {
  hpke: MlsHpke;
  kem: HpkeKem<K>;
  /** SealBase(pkR, info, aad, pt), with a given ephemeral key for test vectors. */
  sealSync(
    publicKey: K,
    plaintext: Uint8Array,
    info: Uint8Array,
    aad: Uint8Array,
    ephemeral?: K,
  ): {
    enc: Uint8Array;
    ct: Uint8Array;
  };
}

export interface HpkeOptions {
  /** Byte equality, where the platform has a faster one than a loop (info_hash cache below). */
  equal?: (a: Uint8Array, b: Uint8Array) => boolean;
}

/** RFC 9180 mode_base over a KEM, a KDF and an AEAD. */
export function makeHpke<K>(
  kem: HpkeKem<K>,
  kdf: HmacKdf,
  aead: HpkeAead,
  options: HpkeOptions = {},
): Hpke<K> {
  const equal = options.equal ?? equalBytes;
  const suiteId = concat([utf8.encode("HPKE"), u16(kem.id), u16(kdf.id), u16(aead.id)]);
  const l = labeledKdf(kdf, suiteId);
  /** psk_id_hash for mode_base (empty psk_id): a constant. */
  const pskIdHash = l.extract(EMPTY, "psk_id_hash", EMPTY);

  /**
   * info_hash of the last info seen: a commit seals the same info (its EncryptContext: label and
   * GroupContext) to every member of a copath resolution — thousands of times in a large group.
   */
  let lastInfo: { info: Uint8Array; hash: Uint8Array; seen: Uint8Array } | undefined;
  function infoHash(info: Uint8Array): Uint8Array {
    if (lastInfo !== undefined) {
      // The same buffer as last time (mls/labeled-crypto.ts hands out one EncryptContext per context,
      // never modified): a Welcome's context is megabytes at 10,000 members — not compared per seal.
      if (info === lastInfo.seen && info.length === lastInfo.info.length) return lastInfo.hash;
      if (equal(info, lastInfo.info)) {
        lastInfo.seen = info;
        return lastInfo.hash;
      }
    }
    const hash = l.extract(EMPTY, "info_hash", info);
    lastInfo = { info: info.slice(), hash, seen: info };
    return hash;
  }

  /** KeySchedule(mode_base, shared_secret, info, "", ""): key and base_nonce, exporter_secret if asked. */
  function keySchedule(sharedSecret: Uint8Array, info: Uint8Array, exporter: boolean) {
    const context = concat([Uint8Array.of(0), pskIdHash, infoHash(info)]);
    const secret = l.extract(sharedSecret, "secret", EMPTY);
    try {
      if (exporter)
        return { key: EMPTY, baseNonce: EMPTY, exporterSecret: l.expand(secret, "exp", context, kdf.nh) };
      return {
        key: l.expand(secret, "key", context, aead.nk),
        baseNonce: l.expand(secret, "base_nonce", context, aead.nn),
        exporterSecret: EMPTY,
      };
    } finally {
      secret.fill(0);
    }
  }

  function sealSync(pkR: K, plaintext: Uint8Array, info: Uint8Array, aad: Uint8Array, ephemeral?: K) {
    const { enc, sharedSecret } = kem.encap(pkR, ephemeral);
    const ks = keySchedule(sharedSecret, info, false);
    sharedSecret.fill(0);
    try {
      // Single-shot: sequence number 0, so the nonce is base_nonce itself.
      return { enc, ct: aead.seal(ks.key, ks.baseNonce, aad, plaintext) };
    } finally {
      ks.key.fill(0);
    }
  }

  /** Secret export (§5.3) from a context's exporter_secret. */
  function exported(sharedSecret: Uint8Array, info: Uint8Array, exporterContext: Uint8Array, length: number) {
    const ks = keySchedule(sharedSecret, info, true);
    sharedSecret.fill(0);
    try {
      return l.expand(ks.exporterSecret, "sec", exporterContext, length);
    } finally {
      ks.exporterSecret.fill(0);
    }
  }

  const aeadOpen = (key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ct: Uint8Array) => {
    try {
      return aead.open(key, nonce, aad, ct);
    } catch (e) {
      if (e instanceof CryptoError) throw e;
      throw new CryptoError(`AEAD: decryption failed (${(e as Error).message})`);
    }
  };

  // The KEM's keys go out as the opaque HpkePublicKey / HpkePrivateKey and come back as they went.
  const out = (k: K) => k as unknown as HpkePublicKey & HpkePrivateKey;
  const back = (k: HpkePublicKey | HpkePrivateKey) => k as unknown as K;
  const pairOut = (p: { privateKey: K; publicKey: K }) => ({
    privateKey: out(p.privateKey) as HpkePrivateKey,
    publicKey: out(p.publicKey) as HpkePublicKey,
  });

  const hpke: MlsHpke = {
    seal: async (pk, plaintext, info, aad) => sealSync(back(pk), plaintext, info, aad ?? EMPTY),
    async open(sk, kemOutput, ciphertext, info, aad) {
      const ks = keySchedule(kem.decap(back(sk), kemOutput), info, false);
      try {
        return aeadOpen(ks.key, ks.baseNonce, aad ?? EMPTY, ciphertext);
      } finally {
        ks.key.fill(0);
      }
    },
    async exportSecret(pk, exporterContext, length, info) {
      const { enc, sharedSecret } = kem.encap(back(pk));
      return { enc, secret: exported(sharedSecret, info, exporterContext, length) };
    },
    importSecret: async (sk, exporterContext, kemOutput, length, info) =>
      exported(kem.decap(back(sk), kemOutput), info, exporterContext, length),
    importPrivateKey: async (raw) => out(kem.importPrivateKey(raw)),
    importPublicKey: async (raw) => out(kem.importPublicKey(raw)),
    exportPublicKey: async (k) => kem.exportPublicKey(back(k)),
    exportPrivateKey: async (k) => kem.exportPrivateKey(back(k)),
    encryptAead: async (key, nonce, aad, plaintext) => aead.seal(key, nonce, aad ?? EMPTY, plaintext),
    decryptAead: async (key, nonce, aad, ciphertext) => aeadOpen(key, nonce, aad ?? EMPTY, ciphertext),
    deriveKeyPair: async (ikm) => pairOut(kem.deriveKeyPair(ikm)),
    generateKeyPair: async () => pairOut(kem.generateKeyPair()),
    keyLength: aead.nk,
    nonceLength: aead.nn,
  };
  return { hpke, kem, sealSync };
}
