/**
 * Parley's post-quantum MLS cipher suite: MLS_256_XWING_AES256GCM_SHA512_Ed25519, id 0xF00D (private
 * use range of RFC 9420 §17.1, the id ts-mls gives it, so the two interoperate):
 *
 *     KEM        X-Wing (draft-connolly-cfrg-xwing-kem: ML-KEM-768 ‖ X25519, SHA3-256 combiner),
 *                HPKE kem_id 0x647A, from @noble/post-quantum
 *     HPKE       RFC 9180 mode_base, KDF HKDF-SHA512 (0x0003), AEAD AES-256-GCM (0x0002)
 *     MLS hash   SHA-512 (KDF HKDF-SHA512, Nh = 64), AEAD AES-256-GCM (Nk = 32, Nn = 12)
 *     signature  Ed25519 (as suite 1: device keys stay what they are)
 *
 * X-Wing keys (draft §5): the private key is a 32-byte seed; expanded = SHAKE256(seed, 96):
 * ML-KEM-768 key pair from expanded[0..64] (d ‖ z), X25519 private key expanded[64..96]; public key =
 * ML-KEM ek (1184) ‖ X25519 pk (32) = 1216 bytes; enc = ML-KEM ct (1088) ‖ X25519 ct (32) = 1120.
 * HPKE's DeriveKeyPair(ikm) for X-Wing (draft §5.4, as @hpke/hybridkem-x-wing does it):
 * seed = SHAKE256(ikm, 32). The shared secret is X-Wing's own 32 bytes (no DHKEM ExtractAndExpand).
 *
 * X-Wing is written out here (the draft's Encapsulate/Decapsulate, checked against @noble's own XWing
 * and @hpke/hybridkem-x-wing in the tests) rather than taken whole from @noble/post-quantum, so that
 * its X25519 half and the symmetric primitives (SHA-512, HMAC-SHA512, AES-256-GCM) come from the
 * caller: OpenSSL in the node provider (a pure-JS X25519 costs as much as ML-KEM itself), @noble in
 * the portable one. ML-KEM-768 (FIPS 203) and SHAKE256/SHA3-256 are @noble's on both.
 */
import { sha3_256, shake256 } from "@noble/hashes/sha3.js";
import { ml_kem768 } from "@noble/post-quantum/ml-kem.js";
import { concatBytes } from "../encoding/bytes.js";
import { type HmacKdf, type HpkeKem, makeHpke, mlsKdf } from "./hpke.js";
import { CryptoError, type MlsRng, type MlsSignature, type MlsSuite } from "./mls-suite.js";

export const XWING_SUITE_ID = 0xf00d;
const KEM_ID = 0x647a;
const NH = 64;
const NK = 32;
const NN = 12;
const PUBLIC_KEY_BYTES = 1216;
const ENC_BYTES = 1120;
const SEED_BYTES = 32;

/** The symmetric primitives the suite is built on. */
export interface XWingPrimitives {
  sha512(data: Uint8Array): Uint8Array;
  hmacSha512(key: Uint8Array, data: Uint8Array): Uint8Array;
  aes256GcmEncrypt(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /** Throws on a bad tag. */
  aes256GcmDecrypt(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Uint8Array;
  /** X25519(scalar, u) (RFC 7748); throws on an all-zero result. */
  x25519(scalar: Uint8Array, u: Uint8Array): Uint8Array;
  /** X25519(scalar, 9): the public key of a private key. */
  x25519Base(scalar: Uint8Array): Uint8Array;
  signature: MlsSignature;
  rng: MlsRng;
}

const concat = concatBytes;

/** An X-Wing key as handed out by the suite's Hpke (callers only pass it back). */
interface XWingKey {
  readonly xwing: "public" | "private";
  /** Public: the 1216-byte key. Private: the 32-byte seed. */
  readonly raw: Uint8Array;
  /** Private keys: the expanded decapsulation key, computed on first use. */
  expanded?: Expanded;
}

interface Expanded {
  skM: Uint8Array;
  skX: Uint8Array;
  pkM: Uint8Array;
  pkX: Uint8Array;
}

/** XWingLabel = "\\.//^\\" (6 bytes). */
const XWING_LABEL = new Uint8Array([0x5c, 0x2e, 0x2f, 0x2f, 0x5e, 0x5c]);

function asKey(k: XWingKey, kind: XWingKey["xwing"]): XWingKey {
  if (k?.xwing !== kind || !(k.raw instanceof Uint8Array)) throw new CryptoError(`X-Wing: not a ${kind} key`);
  return k;
}

export function makeXWingSuite(p: XWingPrimitives): MlsSuite {
  const kdf: HmacKdf = { id: 0x0003, nh: NH, hmac: (key, parts) => p.hmacSha512(key, concat(...parts)) };

  /** expandDecapsulationKey(sk): SHAKE256(sk, 96) → ML-KEM-768 key pair from [0, 64), X25519 from [64, 96). */
  function expand(seed: Uint8Array): Expanded {
    const expanded = shake256(seed, { dkLen: 96 });
    const { publicKey: pkM, secretKey: skM } = ml_kem768.keygen(expanded.subarray(0, 64));
    const skX = expanded.slice(64, 96);
    return { skM, skX, pkM, pkX: p.x25519Base(skX) };
  }

  /** Combiner(ss_M, ss_X, ct_X, pk_X) = SHA3-256(ss_M ‖ ss_X ‖ ct_X ‖ pk_X ‖ XWingLabel). */
  const combiner = (ssM: Uint8Array, ssX: Uint8Array, ctX: Uint8Array, pkX: Uint8Array) =>
    sha3_256(concat(ssM, ssX, ctX, pkX, XWING_LABEL));

  const privateKey = (seed: Uint8Array): XWingKey => {
    if (seed.length !== SEED_BYTES) throw new CryptoError("X-Wing: private key must be a 32-byte seed");
    return { xwing: "private", raw: seed.slice() };
  };
  const publicKey = (raw: Uint8Array): XWingKey => {
    if (raw.length !== PUBLIC_KEY_BYTES) throw new CryptoError("X-Wing: public key must be 1216 bytes");
    return { xwing: "public", raw: raw.slice() };
  };
  const pairFromSeed = (seed: Uint8Array) => {
    const expanded = expand(seed);
    const sk = privateKey(seed);
    sk.expanded = expanded;
    return { privateKey: sk, publicKey: publicKey(concat(expanded.pkM, expanded.pkX)) };
  };

  /** X-Wing as an HPKE KEM (draft §5.4): the shared secret is X-Wing's own 32 bytes. */
  const kem: HpkeKem<XWingKey> = {
    id: KEM_ID,
    encap(pk) {
      const raw = asKey(pk, "public").raw;
      const pkM = raw.subarray(0, 1184);
      const pkX = raw.subarray(1184);
      const ekX = p.rng.randomBytes(32);
      const ctX = p.x25519Base(ekX);
      const ssX = p.x25519(ekX, pkX);
      ekX.fill(0);
      const { cipherText: ctM, sharedSecret: ssM } = ml_kem768.encapsulate(pkM, p.rng.randomBytes(32));
      return { enc: concat(ctM, ctX), sharedSecret: combiner(ssM, ssX, ctX, pkX) };
    },
    decap(sk, kemOutput) {
      const key = asKey(sk, "private");
      if (kemOutput.length !== ENC_BYTES) throw new CryptoError("X-Wing: enc must be 1120 bytes");
      try {
        key.expanded ??= expand(key.raw);
        const { skM, skX, pkX } = key.expanded;
        const ctX = kemOutput.subarray(1088);
        return combiner(
          ml_kem768.decapsulate(kemOutput.subarray(0, 1088), skM),
          p.x25519(skX, ctX),
          ctX,
          pkX,
        );
      } catch (e) {
        throw new CryptoError(`X-Wing: decapsulation failed (${(e as Error).message})`);
      }
    },
    deriveKeyPair: (ikm) => pairFromSeed(shake256(ikm, { dkLen: SEED_BYTES })),
    generateKeyPair: () => pairFromSeed(p.rng.randomBytes(SEED_BYTES)),
    importPublicKey: publicKey,
    importPrivateKey: privateKey,
    exportPublicKey: (k) => asKey(k, "public").raw.slice(),
    exportPrivateKey: (k) => asKey(k, "private").raw.slice(),
  };

  const { hpke } = makeHpke(kem, kdf, {
    id: 0x0002,
    nk: NK,
    nn: NN,
    seal: p.aes256GcmEncrypt,
    // A bad tag's error becomes a CryptoError in makeHpke (its aeadOpen), for every suite.
    open: p.aes256GcmDecrypt,
  });

  return {
    id: XWING_SUITE_ID,
    hash: {
      digest: async (data) => p.sha512(data),
      mac: async (key, data) => p.hmacSha512(key, data),
      async verifyMac(key, mac, data) {
        const expected = p.hmacSha512(key, data);
        if (expected.length !== mac.length) return false;
        let diff = 0;
        for (let i = 0; i < mac.length; i++) diff |= expected[i]! ^ mac[i]!;
        return diff === 0;
      },
    },
    kdf: mlsKdf(kdf),
    hpke,
    signature: p.signature,
    rng: p.rng,
  };
}
