/** Small node:crypto helpers shared by the node provider and its HPKE. */
import { createCipheriv, createDecipheriv } from "node:crypto";
import { CryptoError } from "./mls-suite.js";

/** A plain Uint8Array copy (Buffers are Uint8Arrays, but may share Node's pool and compare unequal). */
export const plain = (b: Uint8Array): Uint8Array => new Uint8Array(b);
export const b64u = (b: Uint8Array): string =>
  Buffer.from(b.buffer, b.byteOffset, b.length).toString("base64url");

/** A bounded map that forgets the least recently used entry. */
export class Lru<V> {
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

export function aes128GcmEncrypt(
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array | undefined,
  pt: Uint8Array,
) {
  return aesGcmEncrypt("aes-128-gcm", key, nonce, aad, pt);
}

export function aes128GcmDecrypt(
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array | undefined,
  ct: Uint8Array,
) {
  return aesGcmDecrypt("aes-128-gcm", key, nonce, aad, ct);
}

type AesGcm = "aes-128-gcm" | "aes-256-gcm";

export function aesGcmEncrypt(
  alg: AesGcm,
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array | undefined,
  pt: Uint8Array,
) {
  const cipher = createCipheriv(alg, key, nonce);
  if (aad !== undefined && aad.length > 0) cipher.setAAD(aad);
  const head = cipher.update(pt);
  const tail = cipher.final();
  return plain(Buffer.concat([head, tail, cipher.getAuthTag()]));
}

export function aesGcmDecrypt(
  alg: AesGcm,
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array | undefined,
  ct: Uint8Array,
) {
  if (ct.length < 16) throw new CryptoError("AES-GCM: ciphertext shorter than its tag");
  try {
    const decipher = createDecipheriv(alg, key, nonce);
    decipher.setAuthTag(ct.subarray(ct.length - 16));
    if (aad !== undefined && aad.length > 0) decipher.setAAD(aad);
    const head = decipher.update(ct.subarray(0, ct.length - 16));
    return plain(Buffer.concat([head, decipher.final()]));
  } catch (e) {
    throw new CryptoError(`AES-GCM: decryption failed (${(e as Error).message})`);
  }
}
