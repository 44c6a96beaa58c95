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
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  type KeyObject,
  sign as nodeSign,
  verify as nodeVerify,
  randomFillSync,
  timingSafeEqual,
} from "node:crypto";
import {
  type CiphersuiteImpl,
  CryptoError,
  getCiphersuiteImpl,
  type Hash,
  type Hpke,
  type Kdf,
  type PrivateKey,
  type PublicKey,
  type Signature,
} from "ts-mls";
import { nobleCryptoProvider } from "./noble-provider.js";
import type { CryptoProvider, Ed25519KeyPair, MlsCiphersuiteName } from "./provider.js";

const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

/** A plain Uint8Array copy (Buffers are Uint8Arrays, but may share Node's pool and compare unequal). */
const plain = (b: Uint8Array): Uint8Array => new Uint8Array(b);
const b64u = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString("base64url");

/** A bounded map that forgets the least recently used entry. */
class Lru<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly max: number) {}
  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }
  set(key: string, value: V): void {
    if (this.map.size >= this.max) {
      const oldest = this.map.keys().next().value;
      if (oldest !== undefined) this.map.delete(oldest);
    }
    this.map.set(key, value);
  }
}

/** The 32-byte seed of a secret key given as a seed, or as the PKCS#8 DER ts-mls' WebCrypto keygen makes. */
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

function ed25519PrivateKey(secretKey: Uint8Array): KeyObject {
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
 * verified again and again.
 */
const publicKeys = new Lru<KeyObject>(16384);

function ed25519PublicKey(publicKey: Uint8Array): KeyObject {
  const x = b64u(publicKey);
  const cached = publicKeys.get(x);
  if (cached !== undefined) return cached;
  const key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x }, format: "jwk" });
  publicKeys.set(x, key);
  return key;
}

function ed25519Generate(): Ed25519KeyPair {
  const { privateKey } = generateKeyPairSync("ed25519");
  const jwk = privateKey.export({ format: "jwk" });
  if (jwk.d === undefined || jwk.x === undefined) throw new Error("Ed25519 key export failed");
  const secretKey = plain(Buffer.from(jwk.d, "base64url"));
  const publicKey = plain(Buffer.from(jwk.x, "base64url"));
  privateKeys.set(createHash("sha256").update(secretKey).digest("base64"), privateKey);
  return { secretKey, publicKey };
}

function ed25519Sign(secretKey: Uint8Array, message: Uint8Array): Uint8Array {
  return plain(nodeSign(null, message, ed25519PrivateKey(secretKey)));
}

/**
 * Ed25519 verification on libuv's thread pool (node:crypto's callback form): verifications that are
 * started together — as the engine does for a whole Welcome tree — run on every core at once.
 */
function ed25519VerifyAsync(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  if (publicKey.length !== 32 || signature.length !== 64) return Promise.resolve(false);
  let key: KeyObject;
  try {
    key = ed25519PublicKey(publicKey);
  } catch {
    return Promise.resolve(false);
  }
  const verifySync = () => {
    try {
      return nodeVerify(null, message, key, signature);
    } catch {
      return false;
    }
  };
  return new Promise((resolve) => {
    // Belt and braces: should the thread pool ever not call back, check on this thread instead.
    const fallback = setTimeout(() => resolve(verifySync()), VERIFY_FALLBACK_MS);
    try {
      nodeVerify(null, message, key, signature, (error, ok) => {
        clearTimeout(fallback);
        resolve(error === null && ok);
      });
    } catch {
      clearTimeout(fallback);
      resolve(false);
    }
  });
}

const VERIFY_FALLBACK_MS = 10_000;

/** ts-mls Signature for Ed25519 on OpenSSL. Sign keys are 32-byte seeds (PKCS#8 also accepted). */
export const nodeEd25519Signature: Signature = {
  sign: async (signKey, message) => ed25519Sign(signKey, message),
  verify: ed25519VerifyAsync,
  async keygen() {
    const { secretKey, publicKey } = ed25519Generate();
    return { signKey: secretKey, publicKey };
  },
};

const hmacSha256 = (key: Uint8Array, data: Uint8Array): Uint8Array =>
  plain(createHmac("sha256", key).update(data).digest());

/** SHA-256 and HMAC-SHA256 on OpenSSL. */
export const nodeSha256Hash: Hash = {
  digest: async (data) => plain(createHash("sha256").update(data).digest()),
  mac: async (key, data) => hmacSha256(key, data),
  async verifyMac(key, mac, data) {
    const expected = hmacSha256(key, data);
    return mac.length === expected.length && timingSafeEqual(mac, expected);
  },
};

/** HKDF-SHA256 (RFC 5869) from OpenSSL's HMAC; node:crypto has no expand-only HKDF. */
export const nodeHkdfSha256: Kdf = {
  size: 32,
  // An empty salt is HMAC with a zero-length key, which HMAC pads to the same block as HashLen zeros.
  extract: async (salt, ikm) => hmacSha256(salt, ikm),
  async expand(prk, info, length) {
    if (length > 255 * 32) throw new CryptoError("HKDF-Expand: length too large");
    const out = new Uint8Array(length);
    let previous = new Uint8Array(0);
    for (let i = 1, offset = 0; offset < length; i++) {
      previous = new Uint8Array(
        createHmac("sha256", prk).update(previous).update(info).update(Uint8Array.of(i)).digest(),
      );
      out.set(previous.subarray(0, Math.min(previous.length, length - offset)), offset);
      offset += previous.length;
    }
    previous.fill(0);
    return out;
  },
};

function aes128GcmEncrypt(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array | undefined, pt: Uint8Array) {
  const cipher = createCipheriv("aes-128-gcm", key, nonce);
  if (aad !== undefined && aad.length > 0) cipher.setAAD(aad);
  const head = cipher.update(pt);
  const tail = cipher.final();
  return plain(Buffer.concat([head, tail, cipher.getAuthTag()]));
}

function aes128GcmDecrypt(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array | undefined, ct: Uint8Array) {
  if (ct.length < 16) throw new CryptoError("AES-GCM: ciphertext shorter than its tag");
  try {
    const decipher = createDecipheriv("aes-128-gcm", key, nonce);
    decipher.setAuthTag(ct.subarray(ct.length - 16));
    if (aad !== undefined && aad.length > 0) decipher.setAAD(aad);
    const head = decipher.update(ct.subarray(0, ct.length - 16));
    return plain(Buffer.concat([head, decipher.final()]));
  } catch (e) {
    throw new CryptoError(`AES-GCM: decryption failed (${(e as Error).message})`);
  }
}

// ---- HPKE, RFC 9180: mode_base, DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / AES-128-GCM ----

const KEM_ID = 0x0020;
const KDF_ID = 0x0001;
const AEAD_ID = 0x0001;
const NSECRET = 32;
const NK = 16;
const NN = 12;
const HPKE_V1 = Buffer.from("HPKE-v1");
const KEM_SUITE_ID = Buffer.from([0x4b, 0x45, 0x4d, KEM_ID >> 8, KEM_ID & 0xff]); // "KEM" ‖ kem_id
const HPKE_SUITE_ID = Buffer.concat([
  Buffer.from("HPKE"),
  Buffer.from([KEM_ID >> 8, KEM_ID & 0xff, KDF_ID >> 8, KDF_ID & 0xff, AEAD_ID >> 8, AEAD_ID & 0xff]),
]);
const EMPTY = new Uint8Array(0);

/** LabeledExtract(salt, label, ikm) = HKDF-Extract(salt, "HPKE-v1" ‖ suite_id ‖ label ‖ ikm). */
function labeledExtract(suiteId: Uint8Array, salt: Uint8Array, label: string, ikm: Uint8Array): Buffer {
  return createHmac("sha256", salt).update(HPKE_V1).update(suiteId).update(label).update(ikm).digest();
}

/** LabeledExpand(prk, label, info, L) = HKDF-Expand(prk, I2OSP(L, 2) ‖ "HPKE-v1" ‖ suite_id ‖ label ‖ info, L). */
function labeledExpand(
  suiteId: Uint8Array,
  prk: Uint8Array,
  label: string,
  info: Uint8Array,
  length: number,
) {
  if (length > 255 * 32) throw new CryptoError("HPKE: expand length too large");
  const labeledInfo = Buffer.concat([
    Uint8Array.of(length >> 8, length & 0xff),
    HPKE_V1,
    suiteId,
    Buffer.from(label),
    info,
  ]);
  const out = Buffer.alloc(length);
  let previous: Buffer = Buffer.alloc(0);
  for (let i = 1, offset = 0; offset < length; i++) {
    previous = createHmac("sha256", prk)
      .update(previous)
      .update(labeledInfo)
      .update(Uint8Array.of(i))
      .digest();
    previous.copy(out, offset, 0, Math.min(previous.length, length - offset));
    offset += previous.length;
  }
  return out;
}

/** An X25519 key as handed to ts-mls (which only passes it back to this Hpke). */
interface X25519Key {
  readonly type: "public" | "private";
  readonly key: KeyObject;
  /** The public key's 32 bytes (for a private key too: the KEM context needs pkRm). */
  readonly publicRaw: Uint8Array;
  /** The private key's 32 bytes, for private keys. */
  readonly privateRaw?: Uint8Array;
}

const asKey = (k: PublicKey | PrivateKey): X25519Key => {
  const key = k as unknown as X25519Key;
  if (!(key.key instanceof Object) || key.publicRaw === undefined)
    throw new CryptoError("HPKE: not a key of the node provider");
  return key;
};

const x25519Public = new Lru<X25519Key>(16384);

function importX25519Public(raw: Uint8Array): X25519Key {
  if (raw.length !== 32) throw new CryptoError(`X25519 public key must be 32 bytes, got ${raw.length}`);
  const x = b64u(raw);
  const cached = x25519Public.get(x);
  if (cached !== undefined) return cached;
  const key: X25519Key = {
    type: "public",
    key: createPublicKey({ key: { kty: "OKP", crv: "X25519", x }, format: "jwk" }),
    publicRaw: plain(raw),
  };
  x25519Public.set(x, key);
  return key;
}

/**
 * A raw X25519 private key into OpenSSL. PKCS#8 import costs ~0.6 ms; JWK import ~60 µs but wants
 * the public `x` too, which OpenSSL recomputes from `d` (checked once, below, against RFC 7748's
 * vector) — so any 32 bytes do for `x`, and the real public key is read back from the KeyObject.
 */
function importX25519Private(raw: Uint8Array): X25519Key {
  if (raw.length !== 32) throw new CryptoError(`X25519 private key must be 32 bytes, got ${raw.length}`);
  const key = createPrivateKey({
    key: { kty: "OKP", crv: "X25519", d: b64u(raw), x: PLACEHOLDER_X },
    format: "jwk",
  });
  const x = key.export({ format: "jwk" }).x;
  if (x === undefined) throw new CryptoError("X25519 key export failed");
  return { type: "private", key, publicRaw: plain(Buffer.from(x, "base64url")), privateRaw: plain(raw) };
}
const PLACEHOLDER_X = b64u(new Uint8Array(32));

function generateX25519(): X25519Key {
  const { privateKey } = generateKeyPairSync("x25519");
  const jwk = privateKey.export({ format: "jwk" });
  if (jwk.d === undefined || jwk.x === undefined) throw new CryptoError("X25519 key export failed");
  return {
    type: "private",
    key: privateKey,
    publicRaw: plain(Buffer.from(jwk.x, "base64url")),
    privateRaw: plain(Buffer.from(jwk.d, "base64url")),
  };
}

/** An ephemeral key pair for one encapsulation: the private half never leaves OpenSSL. */
function ephemeralX25519(): X25519Key {
  const { privateKey, publicKey } = generateKeyPairSync("x25519");
  const x = publicKey.export({ format: "jwk" }).x;
  if (x === undefined) throw new CryptoError("X25519 key export failed");
  return { type: "private", key: privateKey, publicRaw: plain(Buffer.from(x, "base64url")) };
}

/** DeriveKeyPair(ikm), RFC 9180 §7.1.3 (for X25519 the expanded bytes are the private key as is). */
function deriveX25519(ikm: Uint8Array): X25519Key {
  const prk = labeledExtract(KEM_SUITE_ID, EMPTY, "dkp_prk", ikm);
  const sk = labeledExpand(KEM_SUITE_ID, prk, "sk", EMPTY, 32);
  try {
    return importX25519Private(sk);
  } finally {
    sk.fill(0);
    prk.fill(0);
  }
}

function dh(privateKey: X25519Key, publicKey: X25519Key): Buffer {
  const shared = diffieHellman({ privateKey: privateKey.key, publicKey: publicKey.key });
  if (shared.every((b) => b === 0)) throw new CryptoError("X25519: all-zero shared secret");
  return shared;
}

/** ExtractAndExpand(dh, kem_context) of DHKEM. */
function kemSharedSecret(dhValue: Uint8Array, enc: Uint8Array, pkRm: Uint8Array): Buffer {
  const prk = labeledExtract(KEM_SUITE_ID, EMPTY, "eae_prk", dhValue);
  try {
    return labeledExpand(KEM_SUITE_ID, prk, "shared_secret", Buffer.concat([enc, pkRm]), NSECRET);
  } finally {
    prk.fill(0);
  }
}

/** psk_id_hash for mode_base (empty psk_id): a constant. */
const PSK_ID_HASH = labeledExtract(HPKE_SUITE_ID, EMPTY, "psk_id_hash", EMPTY);

/**
 * info_hash of the last info seen: a commit seals the same info (its EncryptContext: label and
 * GroupContext) to every member of a copath resolution — thousands of times in a large group.
 */
let lastInfo: { info: Uint8Array; hash: Buffer } | undefined;

function infoHash(info: Uint8Array): Buffer {
  if (
    lastInfo !== undefined &&
    Buffer.from(info.buffer, info.byteOffset, info.length).equals(lastInfo.info)
  ) {
    return lastInfo.hash;
  }
  const hash = labeledExtract(HPKE_SUITE_ID, EMPTY, "info_hash", info);
  lastInfo = { info: Buffer.from(info), hash };
  return hash;
}

/** KeySchedule(mode_base, shared_secret, info, "", ""): key and base_nonce, and exporter_secret if asked. */
function keySchedule(sharedSecret: Uint8Array, info: Uint8Array, exporter = false) {
  const context = Buffer.concat([Uint8Array.of(0), PSK_ID_HASH, infoHash(info)]);
  const secret = labeledExtract(HPKE_SUITE_ID, sharedSecret, "secret", EMPTY);
  try {
    return {
      key: labeledExpand(HPKE_SUITE_ID, secret, "key", context, NK),
      baseNonce: labeledExpand(HPKE_SUITE_ID, secret, "base_nonce", context, NN),
      exporterSecret: exporter ? labeledExpand(HPKE_SUITE_ID, secret, "exp", context, 32) : Buffer.alloc(0),
    };
  } finally {
    secret.fill(0);
  }
}

function encap(pkR: X25519Key, ephemeral: X25519Key) {
  const shared = dh(ephemeral, pkR);
  try {
    return {
      enc: ephemeral.publicRaw,
      sharedSecret: kemSharedSecret(shared, ephemeral.publicRaw, pkR.publicRaw),
    };
  } finally {
    shared.fill(0);
  }
}

function decap(skR: X25519Key, enc: Uint8Array) {
  const shared = dh(skR, importX25519Public(enc));
  try {
    return kemSharedSecret(shared, enc, skR.publicRaw);
  } finally {
    shared.fill(0);
  }
}

/**
 * SealBase with a given ephemeral key pair (derived from `ephemeralIkm` as RFC 9180's test vectors
 * do). Only for tests: a real seal draws a fresh ephemeral key.
 */
export function x25519HpkeSealWithEphemeral(
  publicKey: Uint8Array,
  plaintext: Uint8Array,
  info: Uint8Array,
  aad: Uint8Array,
  ephemeralIkm: Uint8Array,
): { enc: Uint8Array; ct: Uint8Array } {
  return seal(importX25519Public(publicKey), plaintext, info, aad, deriveX25519(ephemeralIkm));
}

function seal(
  pkR: X25519Key,
  plaintext: Uint8Array,
  info: Uint8Array,
  aad: Uint8Array,
  ephemeral: X25519Key,
) {
  const { enc, sharedSecret } = encap(pkR, ephemeral);
  const ks = keySchedule(sharedSecret, info);
  sharedSecret.fill(0);
  try {
    // Single-shot: sequence number 0, so the nonce is base_nonce itself.
    return { enc: plain(enc), ct: aes128GcmEncrypt(ks.key, ks.baseNonce, aad, plaintext) };
  } finally {
    ks.key.fill(0);
    ks.exporterSecret.fill(0);
  }
}

/** ts-mls' Hpke for suite 1 on node:crypto. */
export const nodeX25519Hpke: Hpke = {
  async seal(publicKey, plaintext, info, aad) {
    return seal(asKey(publicKey), plaintext, info, aad ?? EMPTY, ephemeralX25519());
  },
  async open(privateKey, kemOutput, ciphertext, info, aad) {
    const sharedSecret = decap(asKey(privateKey), kemOutput);
    const ks = keySchedule(sharedSecret, info);
    sharedSecret.fill(0);
    try {
      return aes128GcmDecrypt(ks.key, ks.baseNonce, aad ?? EMPTY, ciphertext);
    } finally {
      ks.key.fill(0);
      ks.exporterSecret.fill(0);
    }
  },
  async exportSecret(publicKey, exporterContext, length, info) {
    const { enc, sharedSecret } = encap(asKey(publicKey), ephemeralX25519());
    const ks = keySchedule(sharedSecret, info, true);
    sharedSecret.fill(0);
    ks.key.fill(0);
    const secret = plain(labeledExpand(HPKE_SUITE_ID, ks.exporterSecret, "sec", exporterContext, length));
    ks.exporterSecret.fill(0);
    return { enc: plain(enc), secret };
  },
  async importSecret(privateKey, exporterContext, kemOutput, length, info) {
    const sharedSecret = decap(asKey(privateKey), kemOutput);
    const ks = keySchedule(sharedSecret, info, true);
    sharedSecret.fill(0);
    ks.key.fill(0);
    const secret = plain(labeledExpand(HPKE_SUITE_ID, ks.exporterSecret, "sec", exporterContext, length));
    ks.exporterSecret.fill(0);
    return secret;
  },
  importPrivateKey: async (k) => importX25519Private(k) as unknown as PrivateKey,
  importPublicKey: async (k) => importX25519Public(k) as unknown as PublicKey,
  exportPublicKey: async (k) => plain(asKey(k).publicRaw),
  async exportPrivateKey(k) {
    const raw = asKey(k).privateRaw;
    if (raw === undefined) throw new CryptoError("HPKE: not a private key");
    return plain(raw);
  },
  encryptAead: async (key, nonce, aad, plaintext) => aes128GcmEncrypt(key, nonce, aad, plaintext),
  decryptAead: async (key, nonce, aad, ciphertext) => aes128GcmDecrypt(key, nonce, aad, ciphertext),
  async deriveKeyPair(ikm) {
    const k = deriveX25519(ikm);
    return {
      privateKey: k as unknown as PrivateKey,
      publicKey: importX25519Public(k.publicRaw) as unknown as PublicKey,
    };
  },
  async generateKeyPair() {
    const k = generateX25519();
    return {
      privateKey: k as unknown as PrivateKey,
      publicKey: importX25519Public(k.publicRaw) as unknown as PublicKey,
    };
  },
  keyLength: NK,
  nonceLength: NN,
};

/** RFC 7748 §6.1: that OpenSSL derives the public key from `d` whatever `x` says (see importX25519Private). */
function checkX25519Import(): void {
  const k = importX25519Private(
    Buffer.from("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", "hex"),
  );
  if (
    Buffer.from(k.publicRaw).toString("hex") !==
    "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
  )
    throw new Error("node provider: this OpenSSL does not derive X25519 public keys on JWK import");
}

let suite1: Promise<CiphersuiteImpl> | undefined;

async function makeSuite1(): Promise<CiphersuiteImpl> {
  checkX25519Import();
  const base = await getCiphersuiteImpl("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519");
  return {
    ...base,
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
  ed25519Verify: ed25519VerifyAsync,
  // XChaCha20-Poly1305 is not in node:crypto: the portable implementation, byte for byte.
  seal: nobleCryptoProvider.seal,
  open: nobleCryptoProvider.open,
  mlsCiphersuite(name: MlsCiphersuiteName) {
    if (name !== "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519") {
      return Promise.reject(new Error(`node provider: unsupported MLS ciphersuite ${name}`));
    }
    suite1 ??= makeSuite1();
    return suite1;
  },
};
