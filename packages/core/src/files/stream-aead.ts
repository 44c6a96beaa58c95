/**
 * Files are encrypted with the STREAM construction (Hoang, Reyhanitabar, Rogaway, Vizár, "Online
 * Authenticated-Encryption and its Nonce-Reuse Misuse-Resistance", CRYPTO 2015) over AES-256-GCM
 * (WebCrypto: the same code in Node and browsers). Nothing new is invented: each chunk is one
 * AES-256-GCM encryption whose 96-bit nonce is
 *
 *     nonce prefix (7 random bytes) ‖ chunk index (u32 big-endian) ‖ last-chunk flag (1 byte: 0 or 1)
 *
 * and whose associated data is "parley-file-v1". Every file has a fresh random 256-bit key (and
 * prefix), so no (key, nonce) pair repeats across files; within a file the index makes each nonce
 * unique. Reordering chunks fails (the index is in the nonce), truncation fails (the last chunk is
 * the only one with the flag set, and a receiver knows how many chunks there are), and appending
 * fails (nothing may follow the flagged chunk).
 *
 * Chunks hold FILE_CHUNK_BYTES of plaintext (the last one may hold less), each followed by its
 * 16-byte tag, so a file of any size is encrypted and decrypted in constant memory.
 *
 * AES-256-GCM itself is WebCrypto's unless the platform brings its own (`AesGcm`): Node's
 * node:crypto runs on the calling thread with no copy to a worker thread and no promise per chunk,
 * which made the CLI's transfers faster and its memory flatter (bench/src/files.ts). Both are the
 * same standard AES-GCM: files.test.ts checks that each opens what the other sealed.
 */
import { FILE_CHUNK_BYTES, FILE_TAG_BYTES } from "@parley/protocol";

export const FILE_KEY_BYTES = 32;
export const FILE_NONCE_PREFIX_BYTES = 7;
const AAD = new TextEncoder().encode("parley-file-v1");
/** The most chunks a file may have: the index is 32 bits. */
export const MAX_CHUNKS = 2 ** 32 - 1;

export class FileCryptoError extends Error {
  override name = "FileCryptoError";
}

/**
 * AES-256-GCM with a 96-bit nonce and 16-byte tag appended, from the platform. `open` throws on
 * a wrong tag (any error: FileCipher reports it as FileCryptoError).
 */
export interface AesGcm {
  seal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plain: Uint8Array): Uint8Array;
  open(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array;
}

const subtle = (): SubtleCrypto => {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new FileCryptoError("this platform has no WebCrypto (crypto.subtle)");
  return s;
};

export class FileCipher {
  private constructor(
    private readonly key: CryptoKey | { raw: Uint8Array; aead: AesGcm },
    private readonly prefix: Uint8Array,
  ) {}

  /** A cipher for one file: WebCrypto's AES-GCM, or the platform's `aead` when given. */
  static async open(key: Uint8Array, noncePrefix: Uint8Array, aead?: AesGcm): Promise<FileCipher> {
    if (key.length !== FILE_KEY_BYTES) throw new FileCryptoError("a file key is 32 bytes");
    if (noncePrefix.length !== FILE_NONCE_PREFIX_BYTES)
      throw new FileCryptoError("a nonce prefix is 7 bytes");
    if (aead) return new FileCipher({ raw: key.slice(), aead }, noncePrefix.slice());
    const imported = await subtle().importKey("raw", key as BufferSource, "AES-GCM", false, [
      "encrypt",
      "decrypt",
    ]);
    return new FileCipher(imported, noncePrefix.slice());
  }

  private nonce(index: number, last: boolean): Uint8Array {
    if (!Number.isInteger(index) || index < 0 || index > MAX_CHUNKS) {
      throw new FileCryptoError("chunk index out of range");
    }
    const nonce = new Uint8Array(12);
    nonce.set(this.prefix, 0);
    new DataView(nonce.buffer).setUint32(FILE_NONCE_PREFIX_BYTES, index);
    nonce[11] = last ? 1 : 0;
    return nonce;
  }

  async encrypt(index: number, last: boolean, plain: Uint8Array): Promise<Uint8Array> {
    if (plain.length > FILE_CHUNK_BYTES || (!last && plain.length !== FILE_CHUNK_BYTES)) {
      throw new FileCryptoError("every chunk but the last holds exactly FILE_CHUNK_BYTES");
    }
    const nonce = this.nonce(index, last);
    if ("aead" in this.key) return this.key.aead.seal(this.key.raw, nonce, AAD, plain);
    const params = { name: "AES-GCM", iv: nonce, additionalData: AAD } as AesGcmParams;
    return new Uint8Array(await subtle().encrypt(params, this.key, plain as BufferSource));
  }

  async decrypt(index: number, last: boolean, sealed: Uint8Array): Promise<Uint8Array> {
    if (sealed.length < FILE_TAG_BYTES || sealed.length > FILE_CHUNK_BYTES + FILE_TAG_BYTES) {
      throw new FileCryptoError("a chunk of the wrong size");
    }
    const nonce = this.nonce(index, last);
    try {
      if ("aead" in this.key) return this.key.aead.open(this.key.raw, nonce, AAD, sealed);
      const params = { name: "AES-GCM", iv: nonce, additionalData: AAD } as AesGcmParams;
      return new Uint8Array(await subtle().decrypt(params, this.key, sealed as BufferSource));
    } catch {
      throw new FileCryptoError(`chunk ${index} does not decrypt: the file was altered`);
    }
  }
}
