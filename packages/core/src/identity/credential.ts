/**
 * The Parley device credential and the authentication service that checks it.
 *
 * A person is an Ed25519 identity key; each device signs MLS messages with its own Ed25519 device key.
 * The identity key certifies a device key with a signature over
 *
 *     utf8("parley-device-cert-v1") ‖ deviceKey (32 bytes)
 *
 * That certificate is what binds a device to a person: MLS itself only proves "whoever holds this
 * leaf's signature key sent this", and anyone can make a leaf with any key. Without the certificate a
 * server or a group member could add a device of its own under someone's name. The fixed context
 * string keeps the identity key's signatures for this purpose apart from any other signature it may
 * make (domain separation), so no other signed message can be replayed as a certificate.
 *
 * The certificate travels in the leaf's MLS `basic` credential, whose identity bytes are
 *
 *     version (1 byte, = 1) ‖ identity public key (32) ‖ certificate signature (64)    = 97 bytes
 *
 * and the device key itself is the leaf's signature key, so it is not repeated. Every client checks,
 * for every leaf it learns of, that the certificate verifies for exactly that leaf's signature key
 * (ParleyAuthenticationService, called by the MLS engine for KeyPackages, Welcome trees, commits and
 * updates).
 */
import type { CryptoProvider } from "../crypto/provider.js";
import { concatBytes, toHex, utf8 } from "../encoding/bytes.js";

export const DEVICE_CREDENTIAL_VERSION = 1;
export const DEVICE_CERTIFICATE_CONTEXT = "parley-device-cert-v1";
export const ED25519_PUBLIC_KEY_LENGTH = 32;
export const ED25519_SIGNATURE_LENGTH = 64;
export const DEVICE_CREDENTIAL_LENGTH = 1 + ED25519_PUBLIC_KEY_LENGTH + ED25519_SIGNATURE_LENGTH;

/** RFC 9420 §5.3 credential types. */
export const MLS_CREDENTIAL_TYPES = { basic: 1, x509: 2 } as const;

/**
 * An MLS credential as the authentication service sees it. The shape of ts-mls' Credential (which
 * TsMlsEngine, the differential tests' reference, hands over as it is); the RFC 9420 engine maps its
 * own (mls/rfc9420/credential.ts) to it.
 */
export type MlsCredential =
  | { credentialType: typeof MLS_CREDENTIAL_TYPES.basic; identity: Uint8Array }
  | { credentialType: typeof MLS_CREDENTIAL_TYPES.x509; certificates: Uint8Array[] }
  | { credentialType: number; data: Uint8Array };

/** RFC 9420 §5.3.1's authentication service: whether a credential is valid for a signature key. */
export interface AuthenticationService {
  validateCredential(credential: MlsCredential, signaturePublicKey: Uint8Array): Promise<boolean>;
}

/** What a credential carries: whose device this is, and the proof. */
export interface DeviceCredential {
  identityKey: Uint8Array; // 32 bytes
  certificate: Uint8Array; // 64 bytes: identity key's signature over deviceCertificateMessage(deviceKey)
}

export class CredentialError extends Error {
  override name = "CredentialError";
}

const CONTEXT_BYTES = utf8(DEVICE_CERTIFICATE_CONTEXT);

/** The exact bytes the identity key signs to certify `deviceKey`. */
export function deviceCertificateMessage(deviceKey: Uint8Array): Uint8Array {
  if (deviceKey.length !== ED25519_PUBLIC_KEY_LENGTH) {
    throw new CredentialError(
      `device key must be ${ED25519_PUBLIC_KEY_LENGTH} bytes, got ${deviceKey.length}`,
    );
  }
  return concatBytes(CONTEXT_BYTES, deviceKey);
}

export function signDeviceCertificate(
  crypto: CryptoProvider,
  identitySecretKey: Uint8Array,
  deviceKey: Uint8Array,
): Promise<Uint8Array> {
  return crypto.ed25519Sign(identitySecretKey, deviceCertificateMessage(deviceKey));
}

/** True only if `certificate` is `identityKey`'s signature certifying exactly `deviceKey`. */
export async function verifyDeviceCertificate(
  crypto: CryptoProvider,
  identityKey: Uint8Array,
  deviceKey: Uint8Array,
  certificate: Uint8Array,
): Promise<boolean> {
  if (
    identityKey.length !== ED25519_PUBLIC_KEY_LENGTH ||
    deviceKey.length !== ED25519_PUBLIC_KEY_LENGTH ||
    certificate.length !== ED25519_SIGNATURE_LENGTH
  ) {
    return false;
  }
  return crypto.ed25519Verify(identityKey, deviceCertificateMessage(deviceKey), certificate);
}

export function encodeDeviceCredential(credential: DeviceCredential): Uint8Array {
  if (credential.identityKey.length !== ED25519_PUBLIC_KEY_LENGTH) {
    throw new CredentialError(`identity key must be ${ED25519_PUBLIC_KEY_LENGTH} bytes`);
  }
  if (credential.certificate.length !== ED25519_SIGNATURE_LENGTH) {
    throw new CredentialError(`certificate must be ${ED25519_SIGNATURE_LENGTH} bytes`);
  }
  const out = new Uint8Array(DEVICE_CREDENTIAL_LENGTH);
  out[0] = DEVICE_CREDENTIAL_VERSION;
  out.set(credential.identityKey, 1);
  out.set(credential.certificate, 1 + ED25519_PUBLIC_KEY_LENGTH);
  return out;
}

/** Strict: exactly 97 bytes with version 1; anything else is a CredentialError. */
export function decodeDeviceCredential(bytes: Uint8Array): DeviceCredential {
  if (bytes.length !== DEVICE_CREDENTIAL_LENGTH) {
    throw new CredentialError(
      `device credential must be ${DEVICE_CREDENTIAL_LENGTH} bytes, got ${bytes.length}`,
    );
  }
  if (bytes[0] !== DEVICE_CREDENTIAL_VERSION) {
    throw new CredentialError(`unknown device credential version ${bytes[0]}`);
  }
  return {
    identityKey: bytes.slice(1, 1 + ED25519_PUBLIC_KEY_LENGTH),
    certificate: bytes.slice(1 + ED25519_PUBLIC_KEY_LENGTH),
  };
}

/** The MLS credential of a device: `basic`, identity bytes = the encoded DeviceCredential. */
export function deviceMlsCredential(credential: DeviceCredential): {
  credentialType: typeof MLS_CREDENTIAL_TYPES.basic;
  identity: Uint8Array;
} {
  return { credentialType: MLS_CREDENTIAL_TYPES.basic, identity: encodeDeviceCredential(credential) };
}

/** Decodes a leaf's MLS credential (no signature check); throws CredentialError if it is not Parley's. */
export function deviceCredentialOf(credential: MlsCredential): DeviceCredential {
  if (credential.credentialType !== MLS_CREDENTIAL_TYPES.basic || !("identity" in credential)) {
    throw new CredentialError(`not a basic credential (type ${credential.credentialType})`);
  }
  return decodeDeviceCredential(credential.identity);
}

/** The bytes as a string, one char per byte: a cheap exact map key (hex costs ten times more). */

/**
 * The AuthenticationService for Parley: a leaf is acceptable only if its credential is `basic`,
 * decodes as a Parley device credential, and its certificate verifies for exactly the leaf's
 * signature public key. (ts-mls' default accepts everything; this must never.)
 *
 * Verification is deterministic, so successes are remembered (bounded) — a 4,000-member Welcome
 * otherwise costs 4,000 signature checks on every join and again on every later tree validation.
 */
export class ParleyAuthenticationService implements AuthenticationService {
  private readonly verified = new Map<string, true>();

  constructor(
    private readonly crypto: CryptoProvider,
    private readonly cacheSize = 8192,
  ) {}

  async validateCredential(credential: MlsCredential, signaturePublicKey: Uint8Array): Promise<boolean> {
    let device: DeviceCredential;
    try {
      device = deviceCredentialOf(credential);
    } catch {
      return false;
    }
    if (signaturePublicKey.length !== ED25519_PUBLIC_KEY_LENGTH) return false;
    const cacheKey = toHex(device.identityKey) + toHex(device.certificate) + toHex(signaturePublicKey);
    if (this.verified.has(cacheKey)) return true;
    const ok = await verifyDeviceCertificate(
      this.crypto,
      device.identityKey,
      signaturePublicKey,
      device.certificate,
    );
    if (ok) {
      if (this.verified.size >= this.cacheSize) {
        const oldest = this.verified.keys().next().value;
        if (oldest !== undefined) this.verified.delete(oldest);
      }
      this.verified.set(cacheKey, true);
    }
    return ok;
  }
}
