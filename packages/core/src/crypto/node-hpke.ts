/**
 * HPKE (RFC 9180) for MLS cipher suite 1 on node:crypto: mode_base, DHKEM(X25519, HKDF-SHA256),
 * HKDF-SHA256, AES-128-GCM — X25519 by diffieHellman on KeyObjects, HKDF from OpenSSL's HMAC. What
 * MLS uses it for: Welcome group secrets and UpdatePath path secrets (EncryptWithLabel), external
 * init (the exporter). The composition is hpke.ts's; here are the node:crypto primitives it runs on.
 * Checked against RFC 9180's test vector, against @hpke/core (ts-mls' default) and the noble
 * provider in both directions, and by the RFC 9420 vectors.
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
import { type DhGroup, dhkem, type HmacKdf, makeHpke } from "./hpke.js";
import { type Sealed, type SealJob, SealPool } from "./hpke-seal-pool.js";
import { CryptoError, type MlsHpke } from "./mls-suite.js";
import { aes128GcmDecrypt, aes128GcmEncrypt, b64u, Lru, plain } from "./node-util.js";

/**
 * HMAC-SHA256 on OpenSSL, the parts streamed into one HMAC (no concatenation), its Buffer handed out
 * as it is: a seal takes six HMACs, all internal to HPKE (a copy each cost ~2 % of a large commit).
 * What leaves for callers is copied (HKDF-Expand writes into its own array; nodeHkdfSha256's extract).
 */
export const nodeHmacSha256: HmacKdf = {
  id: 0x0001,
  nh: 32,
  hmac(key, parts) {
    const h = createHmac("sha256", key);
    for (const p of parts) h.update(p);
    return h.digest();
  },
};

/** An X25519 key as handed out by the HPKE below (callers only pass it back). */
interface X25519Key {
  readonly type: "public" | "private";
  readonly key: KeyObject;
  /** The public key's 32 bytes (for a private key too: the KEM context needs pkRm). */
  readonly publicRaw: Uint8Array;
  /** The private key's 32 bytes, for private keys. */
  readonly privateRaw?: Uint8Array;
}

const asKey = (k: X25519Key): X25519Key => {
  if (!(k?.key instanceof Object) || k.publicRaw === undefined)
    throw new CryptoError("HPKE: not a key of the node provider");
  return k;
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

function dh(privateKey: X25519Key, publicKey: X25519Key): Buffer {
  const shared = diffieHellman({ privateKey: asKey(privateKey).key, publicKey: asKey(publicKey).key });
  if (shared.every((b) => b === 0)) throw new CryptoError("X25519: all-zero shared secret");
  return shared;
}

/** X25519 on OpenSSL KeyObjects, public keys cached by their bytes (a group's members seal to the same keys). */
const x25519Group: DhGroup<X25519Key> = {
  kemId: 0x0020,
  nsk: 32,
  importPublic: importX25519Public,
  importPrivate: importX25519Private,
  generate: generateX25519,
  /** An ephemeral key pair for one encapsulation: its private bytes are not kept. */
  ephemeral() {
    const { type, key, publicRaw, privateRaw } = generateX25519();
    privateRaw?.fill(0);
    return { type, key, publicRaw };
  },
  publicBytes: (k) => asKey(k).publicRaw,
  privateBytes(k) {
    const raw = asKey(k).privateRaw;
    if (raw === undefined) throw new CryptoError("HPKE: not a private key");
    return raw;
  },
  dh,
};

/**
 * Suite 1's HPKE: mode_base, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, composed by
 * hpke.ts over the primitives above. Buffer.equals (memcmp) for the info_hash cache's comparisons.
 */
const suite1 = makeHpke(
  dhkem(x25519Group, nodeHmacSha256),
  nodeHmacSha256,
  {
    id: 0x0001,
    nk: 16,
    nn: 12,
    seal: aes128GcmEncrypt,
    open: aes128GcmDecrypt,
  },
  {
    equal: (a, b) =>
      Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length)),
  },
);

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
  const ephemeral = suite1.kem.deriveKeyPair(ephemeralIkm).privateKey;
  return suite1.sealSync(importX25519Public(publicKey), plaintext, info, aad, ephemeral);
}

/** SealBase to a raw public key with a fresh ephemeral key (on whichever thread calls it). */
export function sealJob(job: SealJob): Sealed {
  return suite1.sealSync(importX25519Public(job.publicKey), job.plaintext, job.info, job.aad);
}

/** Large batches of seals (a commit's path in a large group) are shared with a worker thread. */
const sealPool = new SealPool(sealJob, new URL("./hpke-seal-worker.js", import.meta.url), {
  disabled: process.env.PARLEY_SEAL_WORKER === "0",
});

/** Starts the seal worker ahead of the first large commit (a long-lived client may call it at start). */
export const warmSealPool = (): void => sealPool.warm();
/** Whether large batches of seals currently go partly to the worker thread, and who sealed how many. */
export const sealPoolStatus = () => ({ active: sealPool.active, ...sealPool.counts });

/** Suite 1's HPKE on node:crypto; seals asked for together go through the pool. */
export const nodeX25519Hpke: MlsHpke = {
  ...suite1.hpke,
  seal(publicKey, plaintext, info, aad) {
    const pk = publicKey as unknown as X25519Key;
    return sealPool.seal({ publicKey: asKey(pk).publicRaw, plaintext, info, aad: aad ?? new Uint8Array(0) });
  },
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
