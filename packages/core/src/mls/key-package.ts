/**
 * Validating a KeyPackage received from someone else (RFC 9420 §10.1), before it goes anywhere near
 * a group: ts-mls checks KeyPackages only inside createCommit, and exports neither its checks nor its
 * KeyPackageTBS / LeafNodeTBS encoders.
 *
 * The to-be-signed bytes are recovered from ts-mls's exported KeyPackage encoder: a KeyPackage is
 * `KeyPackageTBS ‖ signature<V>` and a key-package LeafNode is `LeafNodeTBS ‖ signature<V>` (RFC 9420
 * §10, §7.2 — for leaf_node_source = key_package the TBS adds no group id or leaf index), and an
 * empty `<V>` vector encodes as the single byte 0x00. So
 *   KeyPackageTBS = encode(kp with signature = "")[0 .. len-1]
 *   LeafNodeTBS   = encode(kp with both signatures = "" and extensions = [])[prefix .. len-3]
 * where prefix = version (2) ‖ cipher_suite (2) ‖ init_key<V>, and the 3 trailing bytes are the empty
 * leaf signature, the empty extensions vector and the empty KeyPackage signature.
 */
import {
  type AuthenticationService,
  type CiphersuiteImpl,
  defaultCredentialTypes,
  encode,
  type KeyPackage,
  keyPackageEncoder,
  leafNodeSources,
  protocolVersions,
} from "ts-mls";
import { equalBytes } from "../encoding/bytes.js";
import { PARLEY_METADATA_EXTENSION } from "./group-extensions.js";
import { verifyWithLabel } from "./labeled-crypto.js";
import { varintSize } from "./tls-codec.js";

const EMPTY = new Uint8Array(0);

export class KeyPackageError extends Error {
  override name = "KeyPackageError";
}

export function keyPackageTbs(kp: KeyPackage): Uint8Array {
  const bytes = encode(keyPackageEncoder, { ...kp, signature: EMPTY });
  return bytes.subarray(0, bytes.length - 1);
}

export function keyPackageLeafNodeTbs(kp: KeyPackage): Uint8Array {
  const bytes = encode(keyPackageEncoder, {
    ...kp,
    leafNode: { ...kp.leafNode, signature: EMPTY },
    extensions: [],
    signature: EMPTY,
  });
  const prefix = 2 + 2 + varintSize(kp.initKey.length) + kp.initKey.length;
  return bytes.subarray(prefix, bytes.length - 3);
}

/**
 * Throws KeyPackageError unless `kp` is a well-formed, correctly signed, currently valid KeyPackage for
 * `suite` whose credential `authService` accepts for its signature key.
 */
export async function validateKeyPackage(
  kp: KeyPackage,
  suite: CiphersuiteImpl,
  authService: AuthenticationService,
  nowSeconds: bigint = BigInt(Math.floor(Date.now() / 1000)),
): Promise<void> {
  const leaf = kp.leafNode;
  if (kp.version !== protocolVersions.mls10)
    throw new KeyPackageError(`unsupported MLS version ${kp.version}`);
  if (kp.cipherSuite !== suite.id) {
    throw new KeyPackageError(`KeyPackage is for cipher suite ${kp.cipherSuite}, expected ${suite.id}`);
  }
  if (leaf.leafNodeSource !== leafNodeSources.key_package) {
    throw new KeyPackageError("leaf node source is not key_package");
  }
  if (leaf.lifetime.notBefore > nowSeconds || leaf.lifetime.notAfter < nowSeconds) {
    throw new KeyPackageError("KeyPackage is expired or not yet valid");
  }
  if (equalBytes(kp.initKey, leaf.hpkePublicKey)) {
    throw new KeyPackageError("init key and encryption key must differ");
  }
  if (!leaf.capabilities.versions.includes(protocolVersions.mls10)) {
    throw new KeyPackageError("leaf does not support MLS 1.0");
  }
  if (!leaf.capabilities.ciphersuites.includes(suite.id)) {
    throw new KeyPackageError("leaf does not list the cipher suite in its capabilities");
  }
  if (!leaf.capabilities.credentials.includes(defaultCredentialTypes.basic)) {
    throw new KeyPackageError("leaf does not support basic credentials");
  }
  if (!leaf.capabilities.extensions.includes(PARLEY_METADATA_EXTENSION)) {
    throw new KeyPackageError("leaf does not support Parley group metadata (extension 0xF0A1)");
  }
  const leafOk = await verifyWithLabel(
    suite.signature,
    leaf.signaturePublicKey,
    "LeafNodeTBS",
    keyPackageLeafNodeTbs(kp),
    leaf.signature,
  );
  if (!leafOk) throw new KeyPackageError("leaf node signature does not verify");
  const kpOk = await verifyWithLabel(
    suite.signature,
    leaf.signaturePublicKey,
    "KeyPackageTBS",
    keyPackageTbs(kp),
    kp.signature,
  );
  if (!kpOk) throw new KeyPackageError("KeyPackage signature does not verify");
  if (!(await authService.validateCredential(leaf.credential, leaf.signaturePublicKey))) {
    throw new KeyPackageError("credential rejected: the device certificate does not verify for this key");
  }
}
