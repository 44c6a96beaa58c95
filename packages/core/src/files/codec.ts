/**
 * A file as a blob: its plaintext padded with zeros to padme(size) (so the relay learns a size
 * class, not the size), cut into chunks and sealed with FileCipher; and back. Both directions are
 * streams of bounded chunks: memory never holds more than a few chunks, whatever the file's size.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { chunkCount, FILE_CHUNK_BYTES, FILE_TAG_BYTES, paddedLengthOf } from "@parley/protocol";
import { FileCipher, FileCryptoError } from "./stream-aead.js";

/** Random-access reading of the file to send (a Node file, a browser Blob, bytes in memory). */
export interface FileSource {
  readonly size: number;
  /** Exactly `length` bytes from `offset` (the caller stays within `size`). */
  read(offset: number, length: number): Promise<Uint8Array>;
}

export const bytesSource = (bytes: Uint8Array): FileSource => ({
  size: bytes.length,
  read: async (offset, length) => bytes.subarray(offset, offset + length),
});

/** Incremental SHA-256 (the platform may bring a faster one: node:crypto). */
export interface Hasher {
  update(bytes: Uint8Array): void;
  digest(): Uint8Array;
  /** An independent copy of the state so far (for checkpoints of a resumable upload). */
  copy(): Hasher;
}

export type HasherFactory = () => Hasher;

function nobleHasher(state = sha256.create()): Hasher {
  return {
    update: (bytes) => void state.update(bytes),
    digest: () => state.digest(),
    copy: () => nobleHasher(state.clone()),
  };
}

export const defaultHasher: HasherFactory = () => nobleHasher();

/**
 * Sealed chunks of `source` padded to `paddedLength`, from chunk `from` on. Chunk i covers
 * plaintext [i·C, min((i+1)·C, paddedLength)); bytes past the source's end are zeros.
 */
export async function* encryptChunks(
  source: FileSource,
  cipher: FileCipher,
  paddedLength: number,
  from = 0,
): AsyncGenerator<Uint8Array> {
  const n = chunkCount(paddedLength);
  for (let i = from; i < n; i++) {
    const start = i * FILE_CHUNK_BYTES;
    const end = Math.min(start + FILE_CHUNK_BYTES, paddedLength);
    const inFile = Math.max(0, Math.min(end, source.size) - start);
    let plain: Uint8Array;
    if (inFile === end - start) plain = await source.read(start, inFile);
    else {
      // The end of the file and its padding (zeros).
      plain = new Uint8Array(end - start);
      if (inFile > 0) plain.set(await source.read(start, inFile), 0);
    }
    yield await cipher.encrypt(i, i === n - 1, plain);
  }
}

/**
 * Re-cuts a stream of arbitrary pieces into pieces of exactly `size` bytes (the last may be shorter).
 * With `reuse`, every piece is the same buffer, refilled: only for a consumer that is done with a
 * piece before it asks for the next (a 200 MB download otherwise allocated and zeroed 800 buffers
 * of 256 KiB for the collector).
 */
export async function* rechunk(
  input: AsyncIterable<Uint8Array>,
  size: number,
  reuse = false,
): AsyncGenerator<Uint8Array> {
  let buffer = new Uint8Array(size);
  let filled = 0;
  for await (const piece of input) {
    let at = 0;
    while (at < piece.length) {
      const take = Math.min(size - filled, piece.length - at);
      buffer.set(piece.subarray(at, at + take), filled);
      filled += take;
      at += take;
      if (filled === size) {
        yield buffer;
        if (!reuse) buffer = new Uint8Array(size);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield buffer.subarray(0, filled);
}

/**
 * The plaintext of a blob of `blobSize` bytes (a stream of its ciphertext from chunk `from` on), cut
 * back to the file's `size`. Throws FileCryptoError on any altered, missing, reordered or extra byte.
 */
export async function* decryptBlob(
  ciphertext: AsyncIterable<Uint8Array>,
  cipher: FileCipher,
  blobSize: number,
  size: number,
  from = 0,
): AsyncGenerator<Uint8Array> {
  const padded = paddedLengthOf(blobSize);
  if (padded === null || size > padded) throw new FileCryptoError("the blob's size does not fit the file's");
  const n = chunkCount(padded);
  if (!Number.isSafeInteger(from) || from < 0 || from >= n)
    throw new FileCryptoError("a resume point outside the blob");
  let index = from;
  let out = from * FILE_CHUNK_BYTES;
  // One buffer for every sealed chunk: decrypt is done with it (WebCrypto copies its input; the
  // platform's AesGcm reads it at once) before the next is cut.
  for await (const sealed of rechunk(ciphertext, FILE_CHUNK_BYTES + FILE_TAG_BYTES, true)) {
    if (index >= n) throw new FileCryptoError("bytes after the last chunk");
    const plain = await cipher.decrypt(index, index === n - 1, sealed);
    index++;
    const keep = Math.min(plain.length, size - out);
    if (keep > 0) yield plain.subarray(0, keep);
    out += Math.max(0, keep);
  }
  if (index !== n) throw new FileCryptoError("the blob ends early");
}

export { FileCipher };
