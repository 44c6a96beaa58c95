/**
 * HPKE (RFC 9180) for MLS cipher suite 1 on node:crypto: mode_base, DHKEM(X25519, HKDF-SHA256),
 * HKDF-SHA256, AES-128-GCM — X25519 by diffieHellman on KeyObjects, HKDF from OpenSSL's HMAC. What
 * ts-mls uses it for: Welcome group secrets and UpdatePath path secrets (EncryptWithLabel), external
 * init (the exporter). Checked against RFC 9180's test vector, against @hpke/core (ts-mls' default)
 * in both directions, and by the RFC 9420 vectors.
 *
 * A commit of a large group seals one path secret per member of each copath resolution — up to one
 * per member; each seal is one X25519 key generation, one DH and one AES-GCM, all native. Seals asked
 * for together are collected, and a large batch is shared with a worker thread (hpke-seal-pool.ts).
 */
import {
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  type KeyObject,
  randomFillSync,
} from "node:crypto";
import { CryptoError, type Hpke, type PrivateKey, type PublicKey } from "ts-mls";
import { type Sealed, type SealJob, SealPool } from "./hpke-seal-pool.js";
import { aes128GcmDecrypt, aes128GcmEncrypt, b64u, Lru, plain } from "./node-util.js";

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

/**
 * Key generation without generateKeyPairSync: on Node 20, exporting a key made by generateKeyPairSync
 * (JWK) can deadlock the process for good — the export holds the key's mutex while it allocates, a
 * garbage collection then destroys the finished key-generation job, whose destructor takes the same
 * mutex (reproduced with `node --gc-interval=10`: a few thousand generate + export, then a futex wait
 * with the CPU idle; it hung test runs and the groups bench). An X25519 private key is any 32 random
 * bytes (RFC 7748 §5 clamps on use), imported like any other (no job, no shared lock), ~60 µs against
 * ~80 µs for generate + export.
 */
function generateX25519(): X25519Key {
  const d = randomFillSync(new Uint8Array(32));
  try {
    return importX25519Private(d);
  } finally {
    d.fill(0);
  }
}

/** An ephemeral key pair for one encapsulation: its private bytes are not kept. */
function ephemeralX25519(): X25519Key {
  const { type, key, publicRaw, privateRaw } = generateX25519();
  privateRaw?.fill(0);
  return { type, key, publicRaw };
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
let lastInfo: { info: Uint8Array; hash: Buffer; seen: Uint8Array } | undefined;

function infoHash(info: Uint8Array): Buffer {
  if (lastInfo !== undefined) {
    // The same buffer as last time (mls/labeled-crypto.ts hands out one EncryptContext per context,
    // never modified): a Welcome's context is megabytes at 10,000 members — not compared per seal.
    if (info === lastInfo.seen && info.length === lastInfo.info.length) return lastInfo.hash;
    if (Buffer.from(info.buffer, info.byteOffset, info.length).equals(lastInfo.info)) {
      lastInfo.seen = info;
      return lastInfo.hash;
    }
  }
  const hash = labeledExtract(HPKE_SUITE_ID, EMPTY, "info_hash", info);
  lastInfo = { info: Buffer.from(info), hash, seen: info };
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

/** SealBase to a raw public key with a fresh ephemeral key (on whichever thread calls it). */
export function sealJob(job: SealJob): Sealed {
  return seal(importX25519Public(job.publicKey), job.plaintext, job.info, job.aad, ephemeralX25519());
}

/** Large batches of seals (a commit's path in a large group) are shared with a worker thread. */
const sealPool = new SealPool(sealJob, new URL("./hpke-seal-worker.js", import.meta.url), {
  disabled: process.env.PARLEY_SEAL_WORKER === "0",
});

/** Starts the seal worker ahead of the first large commit (a long-lived client may call it at start). */
export const warmSealPool = (): void => sealPool.warm();
/** Whether large batches of seals currently go partly to the worker thread, and who sealed how many. */
export const sealPoolStatus = () => ({ active: sealPool.active, ...sealPool.counts });

/** ts-mls' Hpke for suite 1 on node:crypto. */
export const nodeX25519Hpke: Hpke = {
  seal(publicKey, plaintext, info, aad) {
    return sealPool.seal({ publicKey: asKey(publicKey).publicRaw, plaintext, info, aad: aad ?? EMPTY });
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
export function checkX25519Import(): void {
  const k = importX25519Private(
    Buffer.from("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", "hex"),
  );
  if (
    Buffer.from(k.publicRaw).toString("hex") !==
    "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
  )
    throw new Error("node provider: this OpenSSL does not derive X25519 public keys on JWK import");
}

/** X25519(scalar, u) on OpenSSL (for X-Wing's X25519 half, xwing-suite.ts); refuses an all-zero result. */
export function nodeX25519(scalar: Uint8Array, u: Uint8Array): Uint8Array {
  return plain(dh(importX25519Private(scalar), importX25519Public(u)));
}

/** X25519(scalar, 9): the public key of `scalar`, on OpenSSL. */
export function nodeX25519Base(scalar: Uint8Array): Uint8Array {
  return plain(importX25519Private(scalar).publicRaw);
}
