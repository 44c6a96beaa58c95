/**
 * The native provider for Node: Ed25519, SHA-2, HMAC/HKDF and AES-GCM on node:crypto (OpenSSL).
 * Exported from "@parley/core/node" only — browsers must never import node:crypto.
 *
 * Byte-compatible with the portable provider (same keys, same signatures: Ed25519 is deterministic;
 * same MLS suite outputs — the RFC 9420 test vectors run against both). What stays portable:
 *  - seal/open: XChaCha20-Poly1305 has no node:crypto implementation, so it is the noble provider's.
 *
 * HPKE (RFC 9180; mode_base, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM — what MLS suite 1
 * uses for Welcome secrets and UpdatePath secrets) is ours too, on node:crypto's X25519
 * (diffieHellman on KeyObjects), HMAC and AES-GCM: ts-mls' default (@hpke/core over WebCrypto)
 * spends most of a commit of a large group in WebCrypto's per-call overhead (key import, HKDF as
 * deriveBits jobs). Checked against RFC 9180's own test vector, against @hpke/core in both
 * directions, and by the RFC 9420 vectors (Welcome, TreeKEM, passive clients).
 *
 * Raw Ed25519 keys go into OpenSSL as PKCS#8 DER (RFC 8410: 302e020100300506032b657004220420 ‖
 * 32-byte seed) for private keys and as JWK for public keys (see ed25519PublicKey for why not SPKI).
 */
import {
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  hash as nodeHash,
  sign as nodeSign,
  verify as nodeVerify,
  randomFillSync,
  timingSafeEqual,
} from "node:crypto";
import { hkdfExtract, mlsKdf } from "./hpke.js";
import type { MlsHash, MlsKdf, MlsSignature, MlsSuite } from "./mls-suite.js";
import { nobleCryptoProvider } from "./noble-provider.js";
import {
  checkX25519Import,
  nodeHmacSha256,
  nodeX25519,
  nodeX25519Base,
  nodeX25519Hpke,
} from "./node-hpke.js";
import { aesGcmDecrypt, aesGcmEncrypt, b64u, Lru, plain } from "./node-util.js";
import { makeXWingSuite } from "./xwing-suite.js";

export { nodeX25519Hpke, x25519HpkeSealWithEphemeral } from "./node-hpke.js";

import {
  type CryptoProvider,
  type Ed25519KeyPair,
  MLS_CIPHERSUITE_IDS,
  type MlsCiphersuiteName,
} from "./provider.js";

const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

/** The 32-byte seed of a secret key given as a seed, or as PKCS#8 DER (as WebCrypto's keygen makes it). */
function ed25519Seed(secretKey: Uint8Array): Uint8Array {
  if (secretKey.length === 32) return secretKey;
  if (
    secretKey.length === 48 &&
    Buffer.from(secretKey.buffer, secretKey.byteOffset, 16).equals(PKCS8_ED25519_PREFIX)
  ) {
    return secretKey.subarray(16);
  }
  throw new Error(`Ed25519 secret key must be a 32-byte seed, got ${secretKey.length} bytes`);
}

/**
 * Importing a PKCS#8 key costs ~0.5 ms on Node 20 / OpenSSL 3 (its DER decoder framework), ten times
 * the signature itself. A device signs with the same key all day, so imported private keys are kept,
 * looked up by SHA-256 of the seed (the seed itself is not kept in JS memory), for the few most
 * recently used keys.
 */
const privateKeys = new Lru<KeyObject>(32);
/**
 * The same key by the buffer that holds it: a group state signs every message with one signKey
 * buffer, and hashing its seed to find the cached key took ~20 µs of a ~100 µs message. A buffer
 * zeroed since (a spent secret) is not taken for the key it held.
 */
const privateKeysByBuffer = new WeakMap<Uint8Array, KeyObject>();

const isZeroed = (b: Uint8Array): boolean => {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
};

function ed25519PrivateKey(secretKey: Uint8Array): KeyObject {
  const known = privateKeysByBuffer.get(secretKey);
  if (known !== undefined && !isZeroed(secretKey)) return known;
  const key = ed25519PrivateKeyOf(secretKey);
  privateKeysByBuffer.set(secretKey, key);
  return key;
}

function ed25519PrivateKeyOf(secretKey: Uint8Array): KeyObject {
  const seed = ed25519Seed(secretKey);
  const id = createHash("sha256").update(seed).digest("base64");
  const cached = privateKeys.get(id);
  if (cached !== undefined) return cached;
  const der = Buffer.concat([PKCS8_ED25519_PREFIX, seed]);
  try {
    const key = createPrivateKey({ key: der, format: "der", type: "pkcs8" });
    privateKeys.set(id, key);
    return key;
  } finally {
    der.fill(0);
  }
}

/**
 * Public keys are imported as JWK (x = the raw 32 bytes): measured ~10 µs against ~150 µs for the
 * equivalent SPKI DER (302a300506032b6570032100 ‖ key), and cached, since group members' keys are
 * verified again and again. Room for a group of 10,000 members' signature keys and their identity
 * keys (a joiner verifies both for every leaf).
 */
const publicKeys = new Lru<KeyObject>(32768);

function ed25519PublicKey(publicKey: Uint8Array): KeyObject {
  const x = b64u(publicKey);
  const cached = publicKeys.get(x);
  if (cached !== undefined) return cached;
  const key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x }, format: "jwk" });
  publicKeys.set(x, key);
  return key;
}

/**
 * A fresh seed imported as PKCS#8, not generateKeyPairSync + export: on Node 20 that pair can deadlock
 * the process (the export holds the key's mutex while allocating; a garbage collection then destroys
 * the key-generation job, whose destructor takes the same mutex — see node-hpke.ts). An Ed25519
 * private key is any 32-byte seed (RFC 8032 §5.1.5); the public key is read back from OpenSSL.
 */
function ed25519Generate(): Ed25519KeyPair {
  const secretKey = randomFillSync(new Uint8Array(32));
  const privateKey = ed25519PrivateKey(secretKey);
  const x = createPublicKey(privateKey).export({ format: "jwk" }).x;
  if (x === undefined) throw new Error("Ed25519 key export failed");
  return { secretKey, publicKey: plain(Buffer.from(x, "base64url")) };
}

function ed25519Sign(secretKey: Uint8Array, message: Uint8Array): Uint8Array {
  return plain(nodeSign(null, message, ed25519PrivateKey(secretKey)));
}

/**
 * Ed25519 verification on this thread (bursts go to the thread pool: ed25519VerifyQueued).
 */
function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  try {
    return nodeVerify(null, message, ed25519PublicKey(publicKey), signature);
  } catch {
    return false;
  }
}

/**
 * Verifications asked for in one burst — a joiner checking every leaf signature and every device
 * certificate of a tree (Promise.all over the leaves) — run on libuv's thread pool, so they use every
 * core; a lone one (a message, a commit) runs on this thread, a microtask later. The burst is what
 * was queued by the time the microtask runs. A thread-pool job copies its inputs when queued.
 *
 * (The thread pool was once blamed for test runs that hung with the CPU idle; that was the
 * generateKeyPairSync + export deadlock, see ed25519Generate. Should a pool job still never answer,
 * the batch's deadline verifies what is left on this thread: nothing waits forever.)
 */
interface QueuedVerify {
  publicKey: Uint8Array;
  message: Uint8Array;
  signature: Uint8Array;
  resolve: (ok: boolean) => void;
  done?: boolean;
}
let verifyQueue: QueuedVerify[] = [];
/** Smaller bursts verify on this thread (a pool job costs ~10 µs of this thread's time anyway). */
const POOL_MIN = 16;
const POOL_DEADLINE_MS = 20_000;

function settle(v: QueuedVerify, ok: boolean): void {
  if (v.done) return;
  v.done = true;
  v.resolve(ok);
}

function flushVerifies(): void {
  const batch = verifyQueue;
  verifyQueue = [];
  if (batch.length < POOL_MIN) {
    for (const v of batch) settle(v, ed25519Verify(v.publicKey, v.message, v.signature));
    return;
  }
  let open = batch.length;
  const timer = setTimeout(() => {
    for (const v of batch) settle(v, ed25519Verify(v.publicKey, v.message, v.signature));
  }, POOL_DEADLINE_MS);
  timer.unref();
  const answered = (v: QueuedVerify, ok: boolean) => {
    settle(v, ok);
    if (--open === 0) clearTimeout(timer);
  };
  for (const v of batch) {
    if (v.publicKey.length !== 32 || v.signature.length !== 64) {
      answered(v, false);
      continue;
    }
    try {
      nodeVerify(null, v.message, ed25519PublicKey(v.publicKey), v.signature, (err, ok) =>
        answered(v, err === null && ok),
      );
    } catch {
      answered(v, false);
    }
  }
}

function ed25519VerifyQueued(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  return new Promise((resolve) => {
    verifyQueue.push({ publicKey, message, signature, resolve });
    if (verifyQueue.length === 1) queueMicrotask(flushVerifies);
  });
}

/** The MLS suites' Signature: Ed25519 on OpenSSL. Sign keys are 32-byte seeds (PKCS#8 also accepted). */
export const nodeEd25519Signature: MlsSignature = {
  sign: async (signKey, message) => ed25519Sign(signKey, message),
  verify: (publicKey, message, signature) => ed25519VerifyQueued(publicKey, message, signature),
  async keygen() {
    const { secretKey, publicKey } = ed25519Generate();
    return { signKey: secretKey, publicKey };
  },
};

const hmacSha256 = (key: Uint8Array, data: Uint8Array): Uint8Array =>
  plain(createHmac("sha256", key).update(data).digest());

/** SHA-256 and HMAC-SHA256 on OpenSSL. */
const sha256 = (data: Uint8Array): Uint8Array => plain(nodeHash("sha256", data, "buffer"));

export const nodeSha256Hash: MlsHash & { digestSync: (data: Uint8Array) => Uint8Array } = {
  // crypto.hash: one-shot, no Hash object — a tree hash is thousands of small digests.
  digest: async (data) => sha256(data),
  /** The same, synchronously (tree-hash.ts hashes whole trees without a promise per node). */
  digestSync: sha256,
  mac: async (key, data) => hmacSha256(key, data),
  async verifyMac(key, mac, data) {
    const expected = hmacSha256(key, data);
    return mac.length === expected.length && timingSafeEqual(mac, expected);
  },
};

/** HKDF-SHA256 (RFC 5869, hpke.ts) on OpenSSL's HMAC; node:crypto has no expand-only HKDF. */
export const nodeHkdfSha256: MlsKdf = {
  ...mlsKdf(nodeHmacSha256),
  // A plain Uint8Array of its own, not OpenSSL's Buffer (see nodeHmacSha256).
  extract: async (salt, ikm) => plain(hkdfExtract(nodeHmacSha256, salt, ikm)),
};

let suite1: Promise<MlsSuite> | undefined;
let xwing: Promise<MlsSuite> | undefined;

/** The X-Wing suite (xwing-suite.ts) with SHA-512, HMAC and AES-256-GCM on OpenSSL; the KEM is @noble's. */
function makeNodeXWingSuite(): MlsSuite {
  checkX25519Import();
  return makeXWingSuite({
    sha512: (d) => plain(nodeHash("sha512", d, "buffer")),
    hmacSha512: (k, d) => plain(createHmac("sha512", k).update(d).digest()),
    aes256GcmEncrypt: (k, n, aad, pt) => aesGcmEncrypt("aes-256-gcm", k, n, aad, pt),
    aes256GcmDecrypt: (k, n, aad, ct) => aesGcmDecrypt("aes-256-gcm", k, n, aad, ct),
    x25519: nodeX25519,
    x25519Base: nodeX25519Base,
    signature: nodeEd25519Signature,
    rng: { randomBytes: (n) => randomFillSync(new Uint8Array(n)) },
  });
}

async function makeSuite1(): Promise<MlsSuite> {
  checkX25519Import();
  return {
    id: MLS_CIPHERSUITE_IDS.MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519,
    signature: nodeEd25519Signature,
    hash: nodeSha256Hash,
    kdf: nodeHkdfSha256,
    hpke: nodeX25519Hpke,
    rng: { randomBytes: (n) => randomFillSync(new Uint8Array(n)) },
  };
}

export const nodeCryptoProvider: CryptoProvider = {
  name: "node",
  randomBytes: (n) => randomFillSync(new Uint8Array(n)),
  sha256: async (d) => plain(createHash("sha256").update(d).digest()),
  sha512: async (d) => plain(createHash("sha512").update(d).digest()),
  ed25519Generate: async () => ed25519Generate(),
  ed25519Sign: async (sk, m) => ed25519Sign(sk, m),
  ed25519Verify: (pk, m, s) => ed25519VerifyQueued(pk, m, s),
  // XChaCha20-Poly1305 is not in node:crypto: the portable implementation, byte for byte.
  seal: nobleCryptoProvider.seal,
  open: nobleCryptoProvider.open,
  mlsCiphersuite(name: MlsCiphersuiteName) {
    if (name === "MLS_256_XWING_AES256GCM_SHA512_Ed25519") {
      xwing ??= Promise.resolve(makeNodeXWingSuite());
      return xwing;
    }
    if (name !== "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519") {
      return Promise.reject(new Error(`node provider: unsupported MLS ciphersuite ${name}`));
    }
    suite1 ??= makeSuite1();
    return suite1;
  },
};
