/** A Buffer view of the same memory (no copy). */
export const asBuffer = (bytes: Uint8Array): Buffer =>
  Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** base64url without padding, as the protocol uses; Node's native codec, fast for megabyte bodies. */
export const toB64u = (bytes: Uint8Array): string => asBuffer(bytes).toString("base64url");
