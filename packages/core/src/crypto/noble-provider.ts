/** The portable provider: pure JS (@noble/*) plus ts-mls' default suite. Works in Node and browsers. */
import { gcm } from "@noble/ciphers/aes.js";
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { ed25519, x25519 } from "@noble/curves/ed25519.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256, sha512 } from "@noble/hashes/sha2.js";
import { randomBytes } from "@noble/hashes/utils.js";
import { type CiphersuiteImpl, getCiphersuiteImpl } from "ts-mls";
import { type CryptoProvider, DecryptionError, type MlsCiphersuiteName } from "./provider.js";
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

let xwing: Promise<CiphersuiteImpl> | undefined;

function nobleSuite(name: MlsCiphersuiteName): Promise<CiphersuiteImpl> {
  if (name !== "MLS_256_XWING_AES256GCM_SHA512_Ed25519") return getCiphersuiteImpl(name);
  xwing ??= getCiphersuiteImpl("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519").then((suite1) =>
    makeXWingSuite({
      sha512: (d) => sha512(d),
      hmacSha512: (k, d) => hmac(sha512, k, d),
      aes256GcmEncrypt: (k, n, aad, pt) => gcm(k, n, aad).encrypt(pt),
      aes256GcmDecrypt: (k, n, aad, ct) => gcm(k, n, aad).decrypt(ct),
      x25519: (k, u) => x25519.getSharedSecret(k, u),
      x25519Base: (k) => x25519.getPublicKey(k),
      signature: suite1.signature,
      rng: { randomBytes: (n) => randomBytes(n) },
    }),
  );
  return xwing;
}
