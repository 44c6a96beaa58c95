/**
 * KeyPackages on the Rfc9420Engine (RFC 9420 §10): making one for a device, decoding and checking
 * one that arrives (§10.1 plus Parley's rules), and the private part of a bundle, which keeps
 * TsMlsEngine's format so either engine opens the other's stock.
 */
import type { AuthenticationService } from "../../identity/credential.js";
import { deviceMlsCredential } from "../../identity/credential.js";
import type { DeviceIdentity } from "../../identity/device.js";
import type { KeyPackageBundle, Member } from "../engine.js";
import { readBytes } from "../rfc9420/codec.js";
import { CredentialType } from "../rfc9420/credential.js";
import { WireFormat } from "../rfc9420/framing.js";
import { greaseConsistent, type KeyPackage, validateKeyPackage } from "../rfc9420/key-package.js";
import { encodeMlsMessage, type MlsMessage, readMlsMessage } from "../rfc9420/mls-message.js";
import { newKeyPackage } from "../rfc9420/new-key-package.js";
import type { Suite } from "../rfc9420/suite.js";
import { TlsReader, TlsWriter } from "../tls-codec.js";
import { credentialValid, fail, memberOfLeaf, supportsMetadata } from "./parley-rules.js";

export const WIRE_NAMES: Record<number, string> = {
  1: "public",
  2: "private",
  3: "welcome",
  4: "group_info",
  5: "key_package",
};

/** Strict: the whole input must be exactly one MLSMessage. */
export function decodeMlsMessage(bytes: Uint8Array, what: string): MlsMessage {
  const r = new TlsReader(bytes);
  let m: MlsMessage;
  try {
    m = readMlsMessage(r);
  } catch (e) {
    fail(`${what}: not an MLS message`, e);
  }
  if (r.remaining !== 0) fail(`${what}: ${r.remaining} bytes after the MLS message`);
  return m;
}

export function decodeKeyPackage(bytes: Uint8Array): KeyPackage {
  const m = decodeMlsMessage(bytes, "KeyPackage");
  if (m.wireFormat !== WireFormat.keyPackage)
    fail(`expected a KeyPackage, got ${WIRE_NAMES[m.wireFormat] ?? "unknown"} message`);
  return m.keyPackage;
}

/** The bundle's private part is TsMlsEngine's: init key ‖ leaf HPKE key ‖ signature key (each <V>). */
export function openBundle(bundle: KeyPackageBundle) {
  const keyPackage = decodeKeyPackage(bundle.publicMessage);
  try {
    const r = new TlsReader(bundle.privateKey);
    const out = { keyPackage, initKey: readBytes(r), encKey: readBytes(r), signKey: readBytes(r) };
    r.end();
    return out;
  } catch (e) {
    fail("KeyPackage private part does not decode", e);
  }
}

/** §10.1 plus Parley: GREASE listed, metadata and basic credentials supported, device credential. */
export async function checkKeyPackage(
  suite: Suite,
  authService: AuthenticationService,
  kp: KeyPackage,
): Promise<void> {
  // The certificate is verified alongside the KeyPackage's signatures (one burst of verifications);
  // a KeyPackage that fails both reports its own check first, as when they ran in turn.
  const [invalid, credentialOk] = await Promise.all([
    validateKeyPackage(suite, kp, BigInt(Math.floor(Date.now() / 1000))).then(
      () => undefined,
      (e: unknown) => ({ e }),
    ),
    credentialValid(authService, kp.leafNode),
  ]);
  if (invalid !== undefined) fail("invalid KeyPackage", invalid.e);
  if (!credentialOk)
    fail("invalid KeyPackage: credential rejected: the device certificate does not verify for this key");
  const caps = kp.leafNode.capabilities;
  if (!caps.credentials.includes(CredentialType.basic))
    fail("invalid KeyPackage: leaf does not support basic credentials");
  if (!supportsMetadata(kp.leafNode))
    fail("invalid KeyPackage: leaf does not support Parley group metadata (extension 0xF0A1)");
  if (!greaseConsistent(kp)) fail("invalid KeyPackage: GREASE extension not listed in its capabilities");
}

export async function createKeyPackage(
  suite: Suite,
  authService: AuthenticationService,
  device: DeviceIdentity,
  /** The cipher suites to advertise in the leaf's capabilities (the engine's). */
  cipherSuites: number[],
): Promise<KeyPackageBundle> {
  const credential = deviceMlsCredential(device);
  if (!(await authService.validateCredential(credential, device.deviceKey)))
    fail("device certificate does not verify for this device key");
  const made = await newKeyPackage(suite, {
    credential: { type: CredentialType.basic, identity: credential.identity },
    signatureKey: device.deviceKey,
    signKey: device.deviceSecretKey,
    cipherSuites,
  });
  const priv = new TlsWriter().vector(made.initPrivateKey).vector(made.encryptionPrivateKey);
  return {
    publicMessage: encodeMlsMessage({ wireFormat: WireFormat.keyPackage, keyPackage: made.keyPackage }),
    privateKey: priv.vector(device.deviceSecretKey).finish(),
  };
}

/** A KeyPackage is in no group yet: leafIndex -1. */
export const memberOfKeyPackage = (kp: KeyPackage): Member => memberOfLeaf(-1, kp.leafNode);
