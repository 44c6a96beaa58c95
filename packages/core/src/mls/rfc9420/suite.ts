/**
 * The cipher suites this engine speaks, RFC 9420 §5.1 / §17.1: suite 1,
 * MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519 (KEM X25519, AEAD AES-128-GCM, hash SHA-256,
 * signature Ed25519), and X-Wing, 0xF00D MLS_256_XWING_AES256GCM_SHA512_Ed25519 (post-quantum
 * groups, src/crypto/xwing-suite.ts). Everything in this folder takes the suite of its group as a
 * value (sizes from the suite: Nh, Nk, Nn); the primitives come from Parley's crypto providers
 * (node:crypto or @noble) through their MlsSuite (crypto/mls-suite.ts); nothing here implements a primitive.
 */
import type { MlsSuite } from "../../crypto/mls-suite.js";
import type { CryptoProvider } from "../../crypto/provider.js";

export type Suite = MlsSuite;

export const SUITE_1 = 1;
export const MLS_10 = 1;

export function suiteFor(provider: CryptoProvider): Promise<Suite> {
  return provider.mlsCiphersuite("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519");
}

/** §7.4 / §8: DeriveKeyPair(node_secret) — the HPKE key pair of a path node. */
export async function deriveHpkeKeyPair(
  suite: Suite,
  secret: Uint8Array,
): Promise<{ privateKey: Uint8Array; publicKey: Uint8Array }> {
  const kp = await suite.hpke.deriveKeyPair(secret);
  return {
    privateKey: await suite.hpke.exportPrivateKey(kp.privateKey),
    publicKey: await suite.hpke.exportPublicKey(kp.publicKey),
  };
}
