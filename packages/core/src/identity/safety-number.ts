/**
 * Safety numbers: what two people compare (in person, or by scanning a QR code) to know that the
 * identity key their app shows for the other is the real one. Derived from the two identity keys
 * only — never from device keys, so adding a device does not change it.
 *
 * Construction, following Signal's NumericFingerprintGenerator (version 0):
 *
 *     hash_0     = u16 version (0) ‖ identityKey ‖ stableIdentifier
 *     hash_{i+1} = SHA-512(hash_i ‖ identityKey)                         5200 times
 *
 * Parley has no stable identifiers (no phone numbers, no user names), so `stableIdentifier` is empty,
 * and keys are the raw 32-byte Ed25519 keys (Signal prefixes a type byte). The first 30 bytes of the
 * result become six 5-digit groups (each 5-byte big-endian chunk mod 100000): a 30-digit half per
 * person. The two halves are put in lexicographic order, so both sides print the same 60 digits.
 */
import type { CryptoProvider } from "../crypto/provider.js";
import { concatBytes, equalBytes } from "../encoding/bytes.js";

export const SAFETY_NUMBER_ITERATIONS = 5200;
export const SAFETY_NUMBER_VERSION = 0;
/** Version byte of the scannable payload (`fingerprint`). */
export const FINGERPRINT_PAYLOAD_VERSION = 1;
const FINGERPRINT_BYTES = 32;

export class SafetyNumberError extends Error {
  override name = "SafetyNumberError";
}

function checkKey(key: Uint8Array): void {
  if (key.length !== 32) throw new SafetyNumberError(`identity key must be 32 bytes, got ${key.length}`);
}

/** The 64-byte iterated hash of one identity key. */
export async function identityKeyDigest(
  crypto: CryptoProvider,
  identityKey: Uint8Array,
): Promise<Uint8Array> {
  checkKey(identityKey);
  const version = Uint8Array.of(SAFETY_NUMBER_VERSION >> 8, SAFETY_NUMBER_VERSION & 0xff);
  let hash = concatBytes(version, identityKey); // ‖ empty stable identifier
  for (let i = 0; i < SAFETY_NUMBER_ITERATIONS; i++) {
    hash = await crypto.sha512(concatBytes(hash, identityKey));
  }
  return hash;
}

/** 30 digits: six groups of five, each a 5-byte big-endian chunk mod 100000. */
function digits30(digest: Uint8Array): string {
  let out = "";
  for (let i = 0; i < 30; i += 5) {
    let chunk = 0;
    for (let j = 0; j < 5; j++) chunk = chunk * 256 + digest[i + j]!;
    out += String(chunk % 100000).padStart(5, "0");
  }
  return out;
}

/** The 60-digit safety number of two identities; the same on both sides, whoever computes it. */
export async function safetyNumber(
  crypto: CryptoProvider,
  ourIdentityKey: Uint8Array,
  theirIdentityKey: Uint8Array,
): Promise<string> {
  const [ours, theirs] = await Promise.all([
    identityKeyDigest(crypto, ourIdentityKey),
    identityKeyDigest(crypto, theirIdentityKey),
  ]);
  const a = digits30(ours);
  const b = digits30(theirs);
  return a <= b ? a + b : b + a;
}

/** "12345 67890 …": twelve groups of five digits. */
export function formatSafetyNumber(digits: string): string {
  if (!/^\d{60}$/.test(digits)) throw new SafetyNumberError("a safety number is 60 digits");
  return digits.match(/\d{5}/g)!.join(" ");
}

/**
 * The payload a QR code shows: version byte ‖ first 32 bytes of our digest ‖ first 32 of theirs
 * (65 bytes). The other side scans it and checks it with `verifyFingerprint`, where "ours" and
 * "theirs" are swapped; unlike the 60 digits it is full-strength (256 bits per key).
 */
export async function fingerprint(
  crypto: CryptoProvider,
  ourIdentityKey: Uint8Array,
  theirIdentityKey: Uint8Array,
): Promise<Uint8Array> {
  const [ours, theirs] = await Promise.all([
    identityKeyDigest(crypto, ourIdentityKey),
    identityKeyDigest(crypto, theirIdentityKey),
  ]);
  return concatBytes(
    Uint8Array.of(FINGERPRINT_PAYLOAD_VERSION),
    ours.subarray(0, FINGERPRINT_BYTES),
    theirs.subarray(0, FINGERPRINT_BYTES),
  );
}

/** True if `scanned` is the payload the other person's app shows for this same pair of identities. */
export async function verifyFingerprint(
  crypto: CryptoProvider,
  ourIdentityKey: Uint8Array,
  theirIdentityKey: Uint8Array,
  scanned: Uint8Array,
): Promise<boolean> {
  if (scanned.length !== 1 + 2 * FINGERPRINT_BYTES || scanned[0] !== FINGERPRINT_PAYLOAD_VERSION)
    return false;
  const expected = await fingerprint(crypto, theirIdentityKey, ourIdentityKey);
  return equalBytes(scanned, expected);
}
