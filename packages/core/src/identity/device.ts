/**
 * A person is an Ed25519 identity key; each of their devices has its own Ed25519 device key (its MLS
 * signature key), certified by the identity key. Nothing here assumes one device per person.
 */
export interface IdentityKeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

export interface DeviceIdentity {
  identityKey: Uint8Array; // the person's identity public key
  deviceKey: Uint8Array; // this device's Ed25519 public key (MLS leaf signature key)
  deviceSecretKey: Uint8Array;
  /** Identity key's signature over the device key (see credential.ts for the exact bytes). */
  certificate: Uint8Array;
}
