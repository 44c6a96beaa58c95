import { createPublicKey, type KeyObject, verify } from "node:crypto";

/** DER header of an Ed25519 SubjectPublicKeyInfo; the 32-byte raw key follows it. */
const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

export function ed25519PublicKey(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new Error("an Ed25519 public key is 32 bytes");
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: "der", type: "spki" });
}

/**
 * Key objects of recently used keys: building one (DER, createPublicKey) cost as much as the
 * verification itself, and a queue's key signs every ack of that queue. Bounded: at the cap the
 * oldest half is dropped (a Map iterates in insertion order; a hit moves its key to the end).
 */
const KEY_CACHE_MAX = 4096;
const keyCache = new Map<string, KeyObject>();

function cachedPublicKey(raw: Uint8Array): KeyObject {
  const id = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString("latin1");
  let key = keyCache.get(id);
  if (key) keyCache.delete(id);
  else {
    key = ed25519PublicKey(raw);
    if (keyCache.size >= KEY_CACHE_MAX) {
      let drop = KEY_CACHE_MAX / 2;
      for (const k of keyCache.keys()) {
        if (drop-- <= 0) break;
        keyCache.delete(k);
      }
    }
  }
  keyCache.set(id, key);
  return key;
}

/** False for any failure: a wrong signature, a malformed key or signature. Never throws. */
export function verifyEd25519(publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== 64) return false;
  try {
    return verify(null, data, cachedPublicKey(publicKey), signature);
  } catch {
    return false;
  }
}

// Curve25519 in twisted Edwards form (RFC 8032 §5.1): -x² + y² = 1 + d·x²·y² over GF(p).
const P = 2n ** 255n - 19n;
const D = mod(-121665n * inverse(121666n));
/** A square root of -1 mod p. */
const SQRT_M1 = pow(2n, (P - 1n) / 4n);

function mod(a: bigint): bigint {
  const r = a % P;
  return r < 0n ? r + P : r;
}

function pow(base: bigint, exponent: bigint): bigint {
  let result = 1n;
  let b = mod(base);
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
  }
  return result;
}

function inverse(a: bigint): bigint {
  return pow(a, P - 2n);
}

/**
 * RFC 8032 §5.1.3 point decoding, strict: y must be below p and x = 0 must not carry the sign bit
 * (the canonical encoding). Null when the bytes are not such a point on the curve.
 */
function decodePoint(raw: Uint8Array): { x: bigint; y: bigint } | null {
  let y = 0n;
  for (let i = 31; i >= 0; i--) y = (y << 8n) | BigInt(i === 31 ? raw[i]! & 0x7f : raw[i]!);
  const xSign = (raw[31]! & 0x80) !== 0;
  if (y >= P) return null;
  const y2 = (y * y) % P;
  const u = mod(y2 - 1n);
  const v = mod(D * y2 + 1n);
  // x = u·v³·(u·v⁷)^((p-5)/8), then fixed up by √-1 when v·x² = -u.
  const v3 = (v * v * v) % P;
  let x = (((u * v3) % P) * pow((u * ((v3 * v3 * v) % P)) % P, (P - 5n) / 8n)) % P;
  const vx2 = (v * x * x) % P;
  if (vx2 === mod(-u)) x = (x * SQRT_M1) % P;
  else if (vx2 !== u) return null;
  if (x === 0n && xSign) return null;
  if (((x & 1n) === 1n) !== xSign) x = mod(-x);
  return { x, y };
}

/** 2·(X : Y : Z) in projective coordinates (dbl-2008-bbjlp, a = -1): no inversion. */
function double({ x, y, z }: { x: bigint; y: bigint; z: bigint }): { x: bigint; y: bigint; z: bigint } {
  const b = ((x + y) * (x + y)) % P;
  const c = (x * x) % P;
  const d = (y * y) % P;
  const f = mod(d - c);
  const j = mod(f - 2n * ((z * z) % P));
  return { x: (mod(b - c - d) * j) % P, y: (f * mod(-c - d)) % P, z: (f * j) % P };
}

/**
 * Whether 32 bytes are a public key worth accepting: the canonical encoding (RFC 8032: y below the
 * field prime, no "negative zero" x) of a point on the curve that is not of small order. A
 * small-order key has no secret behind it: signatures "by" it can be made for any message by anyone
 * under verifiers that accept them, so a queue with such a key would have no real owner.
 *
 * Plain BigInt arithmetic (node:crypto decodes no points): a point is of small order when 8 times it
 * is the neutral element (0 : 1 : 1). Checked against @noble/curves (`Point.fromBytes(raw, false)
 * .isSmallOrder()`, what the relay used before) on every small-order encoding, torsion-shifted
 * points, y near p and 22,000 random and real keys: the same answer for every input.
 */
export function isUsablePublicKey(raw: Uint8Array): boolean {
  if (raw.length !== 32) return false;
  const point = decodePoint(raw);
  if (point === null) return false;
  const eight = double(double(double({ ...point, z: 1n })));
  return !(eight.x === 0n && eight.y === eight.z);
}
