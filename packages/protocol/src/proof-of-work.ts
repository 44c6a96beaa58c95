/**
 * Proof of work for queue and invite creation (docs/protocol.md, "Proof of work"). A relay run with
 * `--pow-bits N` refuses those requests without a valid stamp (`429 pow_required`, carrying the
 * bits and a fresh challenge). A stamp is an 8-byte nonce such that
 *
 *     seed = SHA-256( "parley-relay-v1|pow|<challenge>|" ‖ SHA-256(request bytes) )
 *     SHA-256( seed ‖ nonce )            (40 bytes: one SHA-256 block per try)
 *
 * starts with N zero bits; it travels in the `Parley-Pow: <challenge>:<nonce base64url>` header.
 * The request bytes are what the request commits to: for a queue its signed creation bytes
 * (createQueueBytes: recipient key, mode, time, nonce), for an invite its blob. So a stamp is good
 * for that one request only, and the relay remembers stamps it has accepted. The challenge is
 * issued by the relay and expires within minutes, so stamps cannot be computed in bulk long before
 * they are used.
 *
 * Pure TypeScript (@noble/hashes): runs in Node and in the browser.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { fromBase64Url, toBase64Url } from "./encoding/base64url.js";
import { concatBytes, utf8 } from "./encoding/bytes.js";
import { PROTOCOL_VERSION } from "./relay.js";

/** The request header that carries a stamp. */
export const POW_HEADER = "parley-pow";
/** Stamp nonces are this many bytes (base64url: 11 characters). */
export const POW_NONCE_BYTES = 8;

/** `<challenge>:<nonce>` as sent in the Parley-Pow header. */
export interface PowStamp {
  challenge: string;
  nonce: Uint8Array;
}

export function formatPowStamp(stamp: PowStamp): string {
  return `${stamp.challenge}:${toBase64Url(stamp.nonce)}`;
}

/** The stamp in a Parley-Pow header value, or null when it is not one. */
export function parsePowStamp(value: string | undefined): PowStamp | null {
  if (value === undefined || value.length > 256) return null;
  const i = value.lastIndexOf(":");
  if (i <= 0) return null;
  const challenge = value.slice(0, i);
  const nonceText = value.slice(i + 1);
  if (!/^[A-Za-z0-9_.-]+$/.test(challenge) || !/^[A-Za-z0-9_-]{11}$/.test(nonceText)) return null;
  try {
    const nonce = fromBase64Url(nonceText);
    return nonce.length === POW_NONCE_BYTES ? { challenge, nonce } : null;
  } catch {
    return null;
  }
}

/** What every try hashes before the nonce: commits to the challenge and the request. */
function powSeed(challenge: string, requestBytes: Uint8Array): Uint8Array {
  return sha256(concatBytes(utf8(`${PROTOCOL_VERSION}|pow|${challenge}|`), sha256(requestBytes)));
}

/** How many leading bits of `digest` are zero. */
export function leadingZeroBits(digest: Uint8Array): number {
  let bits = 0;
  for (const byte of digest) {
    if (byte === 0) {
      bits += 8;
      continue;
    }
    return bits + Math.clz32(byte) - 24;
  }
  return bits;
}

/** The stamp's hash; it is valid when it has at least the required number of leading zero bits. */
export function powDigest(stamp: PowStamp, requestBytes: Uint8Array): Uint8Array {
  return sha256(concatBytes(powSeed(stamp.challenge, requestBytes), stamp.nonce));
}

export class PowError extends Error {
  override name = "PowError";
}

export interface SolveOptions {
  /** Give up (PowError) after this long; default 60 s. */
  timeoutMs?: number;
  /** Refuse (PowError) a challenge that asks for more bits than this; default 32. */
  maxBits?: number;
  signal?: AbortSignal;
  /** The clock, for tests. */
  now?: () => number;
}

/** Hashes tried between yields to the event loop (a browser tab stays responsive while solving). */
const SLICE = 4096;

/**
 * Finds a stamp for `challenge` with `bits` leading zero bits over `requestBytes`: about 2^bits
 * hashes on average (20 bits: ~1 M). Yields to the event loop now and then; throws PowError if it
 * takes longer than `timeoutMs` or `bits` is above `maxBits`.
 */
export async function solvePow(
  challenge: string,
  bits: number,
  requestBytes: Uint8Array,
  options: SolveOptions = {},
): Promise<PowStamp> {
  const maxBits = options.maxBits ?? 32;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const now = options.now ?? Date.now;
  if (!Number.isInteger(bits) || bits < 0 || bits > maxBits) {
    throw new PowError(
      `the relay asks for a proof of work of ${bits} bits; this client solves at most ${maxBits}`,
    );
  }
  const start = now();
  // One buffer, seed ‖ nonce, hashed in place: each try is one SHA-256 block and no allocation.
  const input = new Uint8Array(32 + POW_NONCE_BYTES);
  input.set(powSeed(challenge, requestBytes));
  const nonce = input.subarray(32);
  globalThis.crypto.getRandomValues(nonce);
  const view = new DataView(input.buffer, 32, POW_NONCE_BYTES);
  const fullBytes = bits >>> 3;
  const mask = (0xff00 >>> (bits & 7)) & 0xff;
  for (;;) {
    for (let i = 0; i < SLICE; i++) {
      const d = sha256(input);
      let ok = true;
      for (let b = 0; b < fullBytes; b++) {
        if (d[b] !== 0) {
          ok = false;
          break;
        }
      }
      if (ok && (mask === 0 || (d[fullBytes]! & mask) === 0)) return { challenge, nonce: nonce.slice() };
      // Next nonce: the low 32 bits count up; the random high bits keep two solvers apart.
      view.setUint32(4, (view.getUint32(4) + 1) >>> 0);
    }
    if (options.signal?.aborted) throw new PowError("proof of work aborted");
    if (now() - start > timeoutMs) {
      throw new PowError(
        `could not find a proof of work of ${bits} bits within ${Math.round(timeoutMs / 1000)} s`,
      );
    }
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
  }
}
