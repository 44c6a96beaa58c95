/**
 * Test-only RFC 9420 pieces the official test vectors need and that neither Parley nor ts-mls' public
 * API provides: locating the vectors, tree math (Appendix C), the secret tree (§9), the key schedule
 * (§8), the GroupContext encoding (§8.1) and a few struct readers. Each is checked by its own vector
 * file before it is used to check anything else.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { CiphersuiteImpl, Kdf } from "ts-mls";
import { fromHex } from "../../src/encoding/bytes.js";
import { deriveSecret, deriveTreeSecret, expandWithLabel } from "../../src/mls/labeled-crypto.js";
import { type TlsReader, TlsWriter } from "../../src/mls/tls-codec.js";

export const hex = fromHex;

/**
 * The vectors live beside the repository: `<repo root>/../shared/mls-test-vectors/`, never inside it.
 * The repo root is the nearest ancestor whose package.json declares workspaces.
 * PARLEY_MLS_TEST_VECTORS overrides the location.
 */
export function locateTestVectors(): { dir: string | undefined; looked: string } {
  const override = process.env.PARLEY_MLS_TEST_VECTORS;
  if (override) return { dir: existsSync(override) ? override : undefined, looked: override };
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, "utf8")) as { workspaces?: unknown }).workspaces !== undefined) {
          const vectors = resolve(dir, "..", "shared", "mls-test-vectors");
          return { dir: existsSync(vectors) ? vectors : undefined, looked: vectors };
        }
      } catch {
        // not JSON: keep walking
      }
    }
    const up = dirname(dir);
    if (up === dir) return { dir: undefined, looked: "../shared/mls-test-vectors (no workspace root found)" };
    dir = up;
  }
}

export function loadVectors<T>(dir: string, file: string): T {
  return JSON.parse(readFileSync(join(dir, file), "utf8")) as T;
}

// ---- Tree math, RFC 9420 Appendix C: the engine's own (src/mls/rfc9420/tree-math.ts) ----

import type { EpochSecrets } from "../../src/mls/rfc9420/key-schedule.js";
import { left, level, nodeWidth, parent, right, root, sibling } from "../../src/mls/rfc9420/tree-math.js";

export { left, level, nodeWidth, parent, right, root, sibling };

// ---- Secret tree, RFC 9420 §9 ----

export interface RatchetKeys {
  key: Uint8Array;
  nonce: Uint8Array;
}

/** tree_node_[N]_secret for every node, derived top-down from the encryption secret. */
export async function secretTreeLeafSecret(
  kdf: Kdf,
  encryptionSecret: Uint8Array,
  nLeaves: number,
  leaf: number,
): Promise<Uint8Array> {
  const target = leaf * 2;
  let node = root(nLeaves);
  let secret = encryptionSecret;
  const enc = new TextEncoder();
  while (node !== target) {
    const goLeft = target < node;
    secret = await expandWithLabel(kdf, secret, "tree", enc.encode(goLeft ? "left" : "right"), kdf.size);
    node = goLeft ? left(node) : right(node);
  }
  return secret;
}

/** Key and nonce of generation `generation` of the "handshake" or "application" ratchet of a leaf. */
export async function ratchetKeys(
  suite: CiphersuiteImpl,
  leafSecret: Uint8Array,
  ratchet: "handshake" | "application",
  generation: number,
): Promise<RatchetKeys> {
  let secret = await expandWithLabel(suite.kdf, leafSecret, ratchet, new Uint8Array(0), suite.kdf.size);
  for (let j = 0; j < generation; j++)
    secret = await deriveTreeSecret(suite.kdf, secret, "secret", j, suite.kdf.size);
  return {
    key: await deriveTreeSecret(suite.kdf, secret, "key", generation, suite.hpke.keyLength),
    nonce: await deriveTreeSecret(suite.kdf, secret, "nonce", generation, suite.hpke.nonceLength),
  };
}

// ---- GroupContext and the key schedule, RFC 9420 §8 ----

export interface GroupContextFields {
  cipherSuite: number;
  groupId: Uint8Array;
  epoch: bigint;
  treeHash: Uint8Array;
  confirmedTranscriptHash: Uint8Array;
}

/** GroupContext with empty extensions. */
export function encodeGroupContext(gc: GroupContextFields): Uint8Array {
  return new TlsWriter()
    .u16(1)
    .u16(gc.cipherSuite)
    .vector(gc.groupId)
    .u64(gc.epoch)
    .vector(gc.treeHash)
    .vector(gc.confirmedTranscriptHash)
    .vector(new Uint8Array(0))
    .finish();
}

export type { EpochSecrets };

/** Everything after the joiner secret: member secret → welcome and epoch secrets → derived secrets. */
export async function epochFromJoiner(
  kdf: Kdf,
  joinerSecret: Uint8Array,
  pskSecret: Uint8Array,
  groupContext: Uint8Array,
): Promise<EpochSecrets> {
  const member = await kdf.extract(joinerSecret, pskSecret);
  const welcomeSecret = await deriveSecret(kdf, member, "welcome");
  const epochSecret = await expandWithLabel(kdf, member, "epoch", groupContext, kdf.size);
  const d = (label: string) => deriveSecret(kdf, epochSecret, label);
  return {
    joinerSecret,
    welcomeSecret,
    epochSecret,
    senderDataSecret: await d("sender data"),
    encryptionSecret: await d("encryption"),
    exporterSecret: await d("exporter"),
    externalSecret: await d("external"),
    confirmationKey: await d("confirm"),
    membershipKey: await d("membership"),
    resumptionPsk: await d("resumption"),
    epochAuthenticator: await d("authentication"),
    initSecret: await d("init"),
  };
}

export async function keyScheduleEpoch(
  kdf: Kdf,
  initSecret: Uint8Array,
  commitSecret: Uint8Array,
  pskSecret: Uint8Array,
  groupContext: Uint8Array,
): Promise<EpochSecrets> {
  const joinerSecret = await expandWithLabel(
    kdf,
    await kdf.extract(initSecret, commitSecret),
    "joiner",
    groupContext,
    kdf.size,
  );
  return epochFromJoiner(kdf, joinerSecret, pskSecret, groupContext);
}

/** MLS-Exporter(Label, Context, Length), RFC 9420 §8.5. */
export async function mlsExport(
  suite: CiphersuiteImpl,
  exporterSecret: Uint8Array,
  label: string,
  context: Uint8Array,
  length: number,
): Promise<Uint8Array> {
  const secret = await deriveSecret(suite.kdf, exporterSecret, label);
  return expandWithLabel(suite.kdf, secret, "exported", await suite.hash.digest(context), length);
}

/** psk_secret over external PSKs, RFC 9420 §8.4. */
export async function pskSecret(
  kdf: Kdf,
  psks: { pskId: Uint8Array; psk: Uint8Array; pskNonce: Uint8Array }[],
): Promise<Uint8Array> {
  let secret: Uint8Array = new Uint8Array(kdf.size);
  for (const [i, p] of psks.entries()) {
    const extracted = await kdf.extract(new Uint8Array(kdf.size), p.psk);
    const label = new TlsWriter().u8(1).vector(p.pskId).vector(p.pskNonce).u16(i).u16(psks.length).finish();
    const input = await expandWithLabel(kdf, extracted, "derived psk", label, kdf.size);
    secret = await kdf.extract(input, secret);
  }
  return secret;
}

// ---- Struct readers ----

/** Reads a GroupContext from `r`, returning its encoding and the fields the tests need. */
export function readGroupContext(r: TlsReader): { bytes: Uint8Array; confirmedTranscriptHash: Uint8Array } {
  const start = r.remaining;
  const parts = new TlsWriter();
  parts.u16(r.u16()).u16(r.u16());
  parts.vector(r.vector()).u64(r.u64()).vector(r.vector());
  const confirmedTranscriptHash = r.vector().slice();
  parts.vector(confirmedTranscriptHash).vector(r.vector());
  const bytes = parts.finish();
  if (bytes.length !== start - r.remaining) throw new Error("GroupContext re-encoding differs");
  return { bytes, confirmedTranscriptHash };
}
