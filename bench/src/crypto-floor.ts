/**
 * The cryptographic floor of an MLS operation, measured in the same run as the operation (node:crypto,
 * synchronous calls, so no promise or provider overhead): Ed25519 sign / verify, X25519, AES-128-GCM
 * on 100 B, SHA-256 throughput. The groups bench states each engine's times against these.
 */
import {
  createCipheriv,
  createHash,
  diffieHellman,
  generateKeyPairSync,
  randomBytes,
  sign,
  verify,
} from "node:crypto";
import { median, round } from "./report.js";

function perOp(f: () => void, iterations: number): number {
  const runs: number[] = [];
  for (let r = 0; r < 7; r++) {
    const t = performance.now();
    for (let i = 0; i < iterations; i++) f();
    runs.push(((performance.now() - t) * 1000) / iterations);
  }
  return median(runs);
}

export interface CryptoFloor {
  ed25519SignUs: number;
  ed25519VerifyUs: number;
  x25519Us: number;
  aes128Gcm100BUs: number;
  sha256MBps: number;
}

export function measureCryptoFloor(): CryptoFloor {
  const ed = generateKeyPairSync("ed25519");
  const msg = randomBytes(200);
  const sig = sign(null, msg, ed.privateKey);
  const a = generateKeyPairSync("x25519");
  const b = generateKeyPairSync("x25519");
  const key = randomBytes(16);
  const iv = randomBytes(12);
  const plain = randomBytes(100);
  const mb = randomBytes(1 << 20);
  const shaUsPerMB = perOp(() => createHash("sha256").update(mb).digest(), 20);
  return {
    ed25519SignUs: round(
      perOp(() => sign(null, msg, ed.privateKey), 300),
      1,
    ),
    ed25519VerifyUs: round(
      perOp(() => verify(null, msg, ed.publicKey, sig), 300),
      1,
    ),
    x25519Us: round(
      perOp(() => diffieHellman({ privateKey: a.privateKey, publicKey: b.publicKey }), 300),
      1,
    ),
    aes128Gcm100BUs: round(
      perOp(() => {
        const c = createCipheriv("aes-128-gcm", key, iv);
        c.update(plain);
        c.final();
        c.getAuthTag();
      }, 2000),
      2,
    ),
    sha256MBps: round(1e6 / shaUsPerMB, 0),
  };
}
