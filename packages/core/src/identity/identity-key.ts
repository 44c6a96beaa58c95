/**
 * Creating a person's identity and certifying devices. The identity secret key signs only device
 * certificates (see credential.ts); MLS never sees it. Keep it off devices that do not need to
 * certify new devices.
 */
import type { CryptoProvider, Ed25519KeyPair } from "../crypto/provider.js";
import { signDeviceCertificate } from "./credential.js";
import type { DeviceIdentity, IdentityKeyPair } from "./device.js";

export interface NewIdentity {
  identity: IdentityKeyPair;
  /** The first device, already certified by `identity`. */
  device: DeviceIdentity;
}

/** A fresh identity key pair plus its first device (fresh device key pair + certificate). */
export async function createIdentity(crypto: CryptoProvider): Promise<NewIdentity> {
  const identity = await crypto.ed25519Generate();
  const device = await certifyDevice(crypto, identity);
  return { identity, device };
}

/**
 * Certifies a device for `identity`. Without `deviceKeyPair` a fresh device key pair is made (the
 * usual case); pass one to certify a key generated elsewhere, e.g. on the new device itself.
 */
export async function certifyDevice(
  crypto: CryptoProvider,
  identity: IdentityKeyPair,
  deviceKeyPair?: Ed25519KeyPair,
): Promise<DeviceIdentity> {
  const device = deviceKeyPair ?? (await crypto.ed25519Generate());
  const certificate = await signDeviceCertificate(crypto, identity.secretKey, device.publicKey);
  return {
    identityKey: identity.publicKey,
    deviceKey: device.publicKey,
    deviceSecretKey: device.secretKey,
    certificate,
  };
}
