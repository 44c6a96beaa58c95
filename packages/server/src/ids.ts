import { randomFillSync } from "node:crypto";
import { toBase64Url } from "@parley/protocol";

/**
 * Random bytes for ids, drawn from the system's CSPRNG a pool at a time: each draw is a call into
 * OpenSSL (and on some kernels a system call), 4–7 µs on the 2-core bench machine whatever its
 * size, and a stored message took two of them (its id and its SQLite rowid), about 3% of the
 * relay's time per delivered message. 4 KiB cost about one 16-byte draw and serve 256 ids. The
 * bytes are the same CSPRNG's, each handed out once (the pool is refilled, never reused).
 */
const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let used = POOL_BYTES;

/** `n` (≤ 4096) fresh random bytes: a copy, never shared with another caller. */
export function randomPooled(n: number): Buffer {
  if (used + n > POOL_BYTES) {
    randomFillSync(pool);
    used = 0;
  }
  const out = Buffer.from(pool.subarray(used, used + n));
  pool.fill(0, used, used + n);
  used += n;
  return out;
}

/** A fresh relay-chosen identifier: 16 random bytes, base64url (22 chars). */
export const newId = (): string => toBase64Url(randomPooled(16));
