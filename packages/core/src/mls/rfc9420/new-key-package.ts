/**
 * Making Parley's KeyPackages, RFC 9420 §10 with §13.5 (GREASE) and §7.2 (capabilities):
 *
 *  - capabilities advertise exactly what the engine speaks: version mls10, its cipher suites (by
 *    default the KeyPackage's own; Rfc9420Engine lists 1 and X-Wing 0xF00D), basic credentials,
 *    Parley's metadata extension (0xF0A1) — plus GREASE values;
 *  - GREASE (§13.5): one GREASE extension type is carried in the leaf's extensions AND listed in
 *    capabilities.extensions (§7.3 requires every leaf extension to be listed), and GREASE values are
 *    added to the proposal and credential capability lists, which peers must ignore;
 *  - init_key and encryption_key are fresh X25519 keys (they MUST differ, §10.1); the leaf and the
 *    KeyPackage are signed (LeafNodeTBS, KeyPackageTBS).
 */

import { PARLEY_METADATA_EXTENSION } from "../group-extensions.js";
import { type Credential, CredentialType } from "./credential.js";
import { type Extension, GREASE_VALUES } from "./extensions.js";
import { type KeyPackage, signKeyPackage } from "./key-package.js";
import { type Capabilities, LeafNodeSource, signLeafNode } from "./leaf-node.js";
import { deriveHpkeKeyPair, MLS_10, type Suite } from "./suite.js";

export interface NewKeyPackageInput {
  credential: Credential;
  signatureKey: Uint8Array;
  signKey: Uint8Array;
  /** Seconds since the epoch. Default: now − 1 h … now + 90 days. */
  notBefore?: bigint;
  notAfter?: bigint;
  /** Default true. */
  grease?: boolean;
  /** The cipher suites to advertise (§7.2); must include the KeyPackage's. Default: just that one. */
  cipherSuites?: number[];
}

export interface NewKeyPackage {
  keyPackage: KeyPackage;
  initPrivateKey: Uint8Array;
  encryptionPrivateKey: Uint8Array;
}

function pickGrease(suite: Suite, n: number): number[] {
  const bytes = suite.rng.randomBytes(n);
  const out: number[] = [];
  for (const b of bytes) {
    const v = GREASE_VALUES[b % GREASE_VALUES.length]!;
    if (!out.includes(v)) out.push(v);
  }
  return out;
}

export function parleyCapabilities(grease: number[], cipherSuites: number[] = [1]): Capabilities {
  return {
    versions: [MLS_10],
    cipherSuites,
    extensions: [PARLEY_METADATA_EXTENSION, ...grease],
    proposals: [...grease],
    credentials: [CredentialType.basic, ...grease],
  };
}

export async function newKeyPackage(suite: Suite, input: NewKeyPackageInput): Promise<NewKeyPackage> {
  if (input.cipherSuites !== undefined && !input.cipherSuites.includes(suite.id))
    throw new Error(`capabilities must list the KeyPackage's own cipher suite ${suite.id}`);
  const grease = input.grease === false ? [] : pickGrease(suite, 2);
  const now = BigInt(Math.floor(Date.now() / 1000));
  const [init, enc] = await Promise.all([
    deriveHpkeKeyPair(suite, suite.rng.randomBytes(suite.kdf.size)),
    deriveHpkeKeyPair(suite, suite.rng.randomBytes(suite.kdf.size)),
  ]);
  const leafExtensions: Extension[] = grease.slice(0, 1).map((type) => ({ type, data: new Uint8Array(0) }));
  const leafNode = await signLeafNode(suite, input.signKey, {
    encryptionKey: enc.publicKey,
    signatureKey: input.signatureKey,
    credential: input.credential,
    capabilities: parleyCapabilities(grease, input.cipherSuites ?? [suite.id]),
    source: LeafNodeSource.keyPackage,
    lifetime: { notBefore: input.notBefore ?? now - 3600n, notAfter: input.notAfter ?? now + 90n * 86400n },
    extensions: leafExtensions,
  });
  const keyPackage = await signKeyPackage(suite, input.signKey, {
    version: MLS_10,
    cipherSuite: suite.id,
    initKey: init.publicKey,
    leafNode,
    extensions: [],
  });
  return { keyPackage, initPrivateKey: init.privateKey, encryptionPrivateKey: enc.privateKey };
}
