/**
 * The portable provider: pure JS (@noble/*), works in Node and browsers. Its MLS suite 1 is HPKE
 * (hpke.ts: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM) over @noble's X25519, HMAC-SHA256
 * and AES-GCM; SHA-256 and HKDF from @noble; Ed25519 signatures on WebCrypto where the platform has
 * Ed25519 (native, several times faster than JS when a joiner checks every leaf of a large tree),
 * else @noble's — both strict RFC 8032, so the same signatures verify everywhere.
 */
import { gcm } from "@noble/ciphers/aes.js";
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { ed25519, x25519 } from "@noble/curves/ed25519.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256, sha512 } from "@noble/hashes/sha2.js";
import { randomBytes } from "@noble/hashes/utils.js";
import { fromHex } from "../encoding/bytes.js";
import { type DhGroup, dhkem, type HmacKdf, makeHpke, mlsKdf } from "./hpke.js";
import { CryptoError, type MlsSignature, type MlsSuite } from "./mls-suite.js";
import {
  type CryptoProvider,
  DecryptionError,
  MLS_CIPHERSUITE_IDS,
  type MlsCiphersuiteName,
} from "./provider.js";
import { makeXWingSuite } from "./xwing-suite.js";

const NONCE = 24;

export const nobleCryptoProvider: CryptoProvider = {
  name: "noble",
  randomBytes: (n) => randomBytes(n),
  sha256: async (d) => sha256(d),
  sha512: async (d) => sha512(d),
  async ed25519Generate() {
    const secretKey = randomBytes(32);
    return { secretKey, publicKey: ed25519.getPublicKey(secretKey) };
  },
  ed25519Sign: async (sk, m) => ed25519.sign(m, sk),
  async ed25519Verify(pk, m, s) {
    try {
      // Strict RFC 8032 verification, as OpenSSL and WebCrypto do: a permissive (ZIP-215) verifier
      // would let a crafted signature be accepted by browser members and refused by Node members.
      return ed25519.verify(s, m, pk, { zip215: false });
    } catch {
      return false;
    }
  },
  async seal(key, plaintext, aad) {
    const nonce = randomBytes(NONCE);
    const ct = xchacha20poly1305(key, nonce, aad).encrypt(plaintext);
    const out = new Uint8Array(NONCE + ct.length);
    out.set(nonce);
    out.set(ct, NONCE);
    return out;
  },
  async open(key, sealed, aad) {
    if (sealed.length < NONCE + 16) throw new DecryptionError("ciphertext too short");
    try {
      return xchacha20poly1305(key, sealed.subarray(0, NONCE), aad).decrypt(sealed.subarray(NONCE));
    } catch {
      throw new DecryptionError("decryption failed: wrong key or tampered data");
    }
  },
  mlsCiphersuite: (name) => nobleSuite(name),
};

const hmacSha256: HmacKdf = {
  id: 0x0001,
  nh: 32,
  hmac(key, parts) {
    const h = hmac.create(sha256, key);
    for (const p of parts) h.update(p);
    return h.digest();
  },
};

/** An X25519 key of this provider's HPKE (callers only pass it back). */
interface X25519Key {
  readonly type: "public" | "private";
  readonly publicKey: Uint8Array;
  readonly privateKey?: Uint8Array;
}

function x25519Public(raw: Uint8Array): X25519Key {
  if (raw.length !== 32) throw new CryptoError(`X25519 public key must be 32 bytes, got ${raw.length}`);
  return { type: "public", publicKey: raw.slice() };
}

function x25519Private(raw: Uint8Array): X25519Key {
  if (raw.length !== 32) throw new CryptoError(`X25519 private key must be 32 bytes, got ${raw.length}`);
  return { type: "private", publicKey: x25519.getPublicKey(raw), privateKey: raw.slice() };
}

const x25519Key = (k: X25519Key): X25519Key => {
  if (!(k?.publicKey instanceof Uint8Array)) throw new CryptoError("HPKE: not a key of the noble provider");
  return k;
};

/** X25519(scalar, u); @noble refuses an all-zero result (a low-order point) itself, with a plain Error. */
function nobleX25519(scalar: Uint8Array, u: Uint8Array): Uint8Array {
  let shared: Uint8Array;
  try {
    shared = x25519.getSharedSecret(scalar, u);
  } catch (e) {
    throw new CryptoError(`X25519: ${(e as Error).message}`);
  }
  if (shared.every((b) => b === 0)) throw new CryptoError("X25519: all-zero shared secret");
  return shared;
}

const x25519Group: DhGroup<X25519Key> = {
  kemId: 0x0020,
  nsk: 32,
  importPublic: x25519Public,
  importPrivate: x25519Private,
  generate: () => x25519Private(randomBytes(32)),
  publicBytes: (k) => x25519Key(k).publicKey,
  privateBytes(k) {
    const raw = x25519Key(k).privateKey;
    if (raw === undefined) throw new CryptoError("HPKE: not a private key");
    return raw;
  },
  dh: (sk, pk) => nobleX25519(x25519Group.privateBytes(sk), x25519Key(pk).publicKey),
};

/** Suite 1's HPKE over @noble (hpke.ts composes it; node-hpke.ts is the same over node:crypto). */
export const nobleX25519Hpke = makeHpke(dhkem(x25519Group, hmacSha256), hmacSha256, {
  id: 0x0001,
  nk: 16,
  nn: 12,
  seal: (key, nonce, aad, pt) => gcm(key, nonce, aad).encrypt(pt),
  // A bad tag's plain Error becomes a CryptoError in makeHpke (its aeadOpen), for every suite.
  open: (key, nonce, aad, ct) => gcm(key, nonce, aad).decrypt(ct),
});

/** RFC 8410 PKCS#8 for an Ed25519 key: this prefix, then the 32-byte seed. */
const PKCS8_ED25519_PREFIX = fromHex("302e020100300506032b657004220420");

/** The 32-byte seed of a sign key given as a seed, or as PKCS#8 DER (RFC 8410, as WebCrypto exports it). */
function ed25519Seed(signKey: Uint8Array): Uint8Array {
  if (signKey.length === 32) return signKey;
  if (signKey.length === 48 && PKCS8_ED25519_PREFIX.every((b, i) => signKey[i] === b))
    return signKey.subarray(16);
  throw new CryptoError(`Ed25519 sign key must be a 32-byte seed, got ${signKey.length} bytes`);
}

const subtle: SubtleCrypto | undefined = globalThis.crypto?.subtle;
/** Set once WebCrypto has refused Ed25519 (an older browser): @noble from then on. */
let noWebEd25519 = subtle === undefined;

/** WebCrypto's Ed25519 where the platform has it, else @noble's (same bytes: Ed25519 is deterministic). */
async function webOrNoble<T>(web: (s: SubtleCrypto) => Promise<T>, noble: () => T): Promise<T> {
  if (!noWebEd25519 && subtle !== undefined) {
    try {
      return await web(subtle);
    } catch (e) {
      if ((e as Error).name !== "NotSupportedError") return noble();
      noWebEd25519 = true;
    }
  }
  return noble();
}

const nobleEd25519Signature: MlsSignature = {
  async sign(signKey, message) {
    const seed = ed25519Seed(signKey);
    return webOrNoble(
      async (s) => {
        const pkcs8 = new Uint8Array(48);
        pkcs8.set(PKCS8_ED25519_PREFIX);
        pkcs8.set(seed, 16);
        try {
          const key = await s.importKey("pkcs8", pkcs8, "Ed25519", false, ["sign"]);
          return new Uint8Array(await s.sign("Ed25519", key, message as Uint8Array<ArrayBuffer>));
        } finally {
          pkcs8.fill(0);
        }
      },
      () => ed25519.sign(message, seed),
    );
  },
  verify: (publicKey, message, signature) =>
    publicKey.length === 32 && signature.length === 64
      ? webOrNoble(
          async (s) => {
            const key = await s.importKey("raw", publicKey as Uint8Array<ArrayBuffer>, "Ed25519", false, [
              "verify",
            ]);
            return s.verify(
              "Ed25519",
              key,
              signature as Uint8Array<ArrayBuffer>,
              message as Uint8Array<ArrayBuffer>,
            );
          },
          () => {
            try {
              return ed25519.verify(signature, message, publicKey, { zip215: false });
            } catch {
              return false;
            }
          },
        )
      : Promise.resolve(false),
  async keygen() {
    const signKey = randomBytes(32);
    return { signKey, publicKey: ed25519.getPublicKey(signKey) };
  },
};

const suite1: MlsSuite = {
  id: MLS_CIPHERSUITE_IDS.MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519,
  hash: {
    digest: async (data) => sha256(data),
    digestSync: (data) => sha256(data),
    mac: async (key, data) => hmac(sha256, key, data),
    async verifyMac(key, mac, data) {
      const expected = hmac(sha256, key, data);
      if (expected.length !== mac.length) return false;
      let diff = 0;
      for (let i = 0; i < mac.length; i++) diff |= expected[i]! ^ mac[i]!;
      return diff === 0;
    },
  },
  kdf: mlsKdf(hmacSha256),
  hpke: nobleX25519Hpke.hpke,
  signature: nobleEd25519Signature,
  rng: { randomBytes: (n) => randomBytes(n) },
};

let xwing: MlsSuite | undefined;

async function nobleSuite(name: MlsCiphersuiteName): Promise<MlsSuite> {
  if (name === "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519") return suite1;
  if (name !== "MLS_256_XWING_AES256GCM_SHA512_Ed25519")
    throw new Error(`noble provider: unsupported MLS ciphersuite ${name}`);
  xwing ??= makeXWingSuite({
    sha512: (d) => sha512(d),
    hmacSha512: (k, d) => hmac(sha512, k, d),
    aes256GcmEncrypt: (k, n, aad, pt) => gcm(k, n, aad).encrypt(pt),
    aes256GcmDecrypt: (k, n, aad, ct) => gcm(k, n, aad).decrypt(ct),
    x25519: nobleX25519,
    x25519Base: (k) => x25519.getPublicKey(k),
    signature: nobleEd25519Signature,
    rng: { randomBytes: (n) => randomBytes(n) },
  });
  return xwing;
}
