/**
 * Every ciphertext the relay stores is padded to one of a few fixed sizes, so that its length says
 * as little as possible about what it holds (a "hi" and a long paragraph look the same).
 *
 * Layout: u32 big-endian payload length ‖ payload ‖ zero bytes up to the bucket size.
 */
export const PADDING_BUCKETS = [
  512,
  2 * 1024,
  8 * 1024,
  32 * 1024,
  128 * 1024,
  512 * 1024,
  2 * 1024 * 1024,
  8 * 1024 * 1024,
] as const;

export const DEFAULT_MAX_MESSAGE_BYTES = 8 * 1024 * 1024;
const HEADER = 4;

export class PaddingError extends Error {
  override name = "PaddingError";
}

export function isBucketSize(length: number): boolean {
  return (PADDING_BUCKETS as readonly number[]).includes(length);
}

export function bucketFor(payloadLength: number): number {
  for (const b of PADDING_BUCKETS) if (payloadLength + HEADER <= b) return b;
  throw new PaddingError(`message too large: ${payloadLength} bytes (max ${maxPayload()} bytes)`);
}

export const maxPayload = (): number => PADDING_BUCKETS[PADDING_BUCKETS.length - 1]! - HEADER;

export function pad(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(bucketFor(payload.length));
  new DataView(out.buffer).setUint32(0, payload.length);
  out.set(payload, HEADER);
  return out;
}

export function unpad(padded: Uint8Array): Uint8Array {
  if (!isBucketSize(padded.length)) throw new PaddingError(`not a padded envelope: ${padded.length} bytes`);
  const length = new DataView(padded.buffer, padded.byteOffset, padded.byteLength).getUint32(0);
  if (length > padded.length - HEADER) throw new PaddingError("padded envelope length out of range");
  for (let i = HEADER + length; i < padded.length; i++) {
    if (padded[i] !== 0) throw new PaddingError("padding bytes are not zero");
  }
  return padded.subarray(HEADER, HEADER + length);
}
