import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defaultCredentialTypes } from "ts-mls";
import { nobleCryptoProvider } from "../src/crypto/noble-provider.js";
import { nodeCryptoProvider } from "../src/crypto/node-provider.js";
import { concatBytes, equalBytes, fromHex, toHex, utf8 } from "../src/encoding/bytes.js";
import {
  CredentialError,
  DEVICE_CREDENTIAL_LENGTH,
  decodeDeviceCredential,
  deviceCertificateMessage,
  deviceMlsCredential,
  encodeDeviceCredential,
  ParleyAuthenticationService,
  verifyDeviceCertificate,
} from "../src/identity/credential.js";
import { certifyDevice, createIdentity } from "../src/identity/identity-key.js";
import {
  fingerprint,
  formatSafetyNumber,
  SafetyNumberError,
  safetyNumber,
  verifyFingerprint,
} from "../src/identity/safety-number.js";

for (const crypto of [nobleCryptoProvider, nodeCryptoProvider]) {
  describe(`identity (${crypto.name} provider)`, () => {
    it("createIdentity certifies its first device; certifyDevice adds more", async () => {
      const { identity, device } = await createIdentity(crypto);
      assert.equal(identity.publicKey.length, 32);
      assert.equal(device.deviceKey.length, 32);
      assert.ok(equalBytes(device.identityKey, identity.publicKey));
      assert.ok(!equalBytes(device.deviceKey, identity.publicKey));
      assert.ok(
        await verifyDeviceCertificate(crypto, identity.publicKey, device.deviceKey, device.certificate),
      );
      // The certificate is exactly the identity key's signature over context ‖ device key.
      assert.deepEqual(
        deviceCertificateMessage(device.deviceKey),
        concatBytes(utf8("parley-device-cert-v1"), device.deviceKey),
      );
      assert.ok(
        await crypto.ed25519Verify(
          identity.publicKey,
          deviceCertificateMessage(device.deviceKey),
          device.certificate,
        ),
      );
      const second = await certifyDevice(crypto, identity);
      assert.ok(
        await verifyDeviceCertificate(crypto, identity.publicKey, second.deviceKey, second.certificate),
      );
      // A certificate binds one device key only.
      assert.ok(
        !(await verifyDeviceCertificate(crypto, identity.publicKey, second.deviceKey, device.certificate)),
      );
      // A given key pair can be certified too (e.g. generated on the new device).
      const keys = await crypto.ed25519Generate();
      const third = await certifyDevice(crypto, identity, keys);
      assert.deepEqual(third.deviceKey, keys.publicKey);
    });

    it("the device credential encodes to 97 bytes and decodes strictly", async () => {
      const { device } = await createIdentity(crypto);
      const bytes = encodeDeviceCredential(device);
      assert.equal(bytes.length, DEVICE_CREDENTIAL_LENGTH);
      assert.equal(bytes[0], 1);
      assert.deepEqual(bytes.subarray(1, 33), device.identityKey);
      assert.deepEqual(bytes.subarray(33), device.certificate);
      const back = decodeDeviceCredential(bytes);
      assert.deepEqual(back, { identityKey: device.identityKey, certificate: device.certificate });
      assert.throws(() => decodeDeviceCredential(bytes.subarray(0, 96)), CredentialError);
      assert.throws(() => decodeDeviceCredential(concatBytes(bytes, new Uint8Array(1))), CredentialError);
      const v2 = bytes.slice();
      v2[0] = 2;
      assert.throws(() => decodeDeviceCredential(v2), /version/);
      assert.throws(() =>
        encodeDeviceCredential({ identityKey: new Uint8Array(31), certificate: device.certificate }),
      );
      assert.throws(() =>
        encodeDeviceCredential({ identityKey: device.identityKey, certificate: new Uint8Array(63) }),
      );
      const mls = deviceMlsCredential(device);
      assert.equal(mls.credentialType, defaultCredentialTypes.basic);
      assert.deepEqual(mls.identity, bytes);
    });

    it("ParleyAuthenticationService accepts exactly the certified signature key", async () => {
      const as = new ParleyAuthenticationService(crypto);
      const alice = await createIdentity(crypto);
      const mallory = await createIdentity(crypto);
      const cred = deviceMlsCredential(alice.device);
      assert.equal(await as.validateCredential(cred, alice.device.deviceKey), true);
      assert.equal(await as.validateCredential(cred, alice.device.deviceKey), true); // cached path
      // Same credential presented with another signature key (e.g. Mallory's leaf): rejected.
      assert.equal(await as.validateCredential(cred, mallory.device.deviceKey), false);
      // Alice's identity key with a certificate made by Mallory's identity key.
      const forgedCert = await crypto.ed25519Sign(
        mallory.identity.secretKey,
        deviceCertificateMessage(mallory.device.deviceKey),
      );
      const forged = deviceMlsCredential({ identityKey: alice.identity.publicKey, certificate: forgedCert });
      assert.equal(await as.validateCredential(forged, mallory.device.deviceKey), false);
      // A certificate over the device key but without the context string: rejected.
      const bare = await crypto.ed25519Sign(alice.identity.secretKey, alice.device.deviceKey);
      const noContext = deviceMlsCredential({ identityKey: alice.identity.publicKey, certificate: bare });
      assert.equal(await as.validateCredential(noContext, alice.device.deviceKey), false);
      // Not basic, not decodable, wrong key length.
      assert.equal(
        await as.validateCredential({ credentialType: 2, certificates: [] }, alice.device.deviceKey),
        false,
      );
      assert.equal(
        await as.validateCredential({ credentialType: 1, identity: utf8("alice") }, alice.device.deviceKey),
        false,
      );
      assert.equal(
        await as.validateCredential({ credentialType: 0xf000, data: cred.identity }, alice.device.deviceKey),
        false,
      );
      assert.equal(await as.validateCredential(cred, alice.device.deviceKey.subarray(1)), false);
    });

    it("safety numbers: same 60 digits on both sides, different for other keys", async () => {
      const alice = await createIdentity(crypto);
      const bob = await createIdentity(crypto);
      const carol = await createIdentity(crypto);
      const ab = await safetyNumber(crypto, alice.identity.publicKey, bob.identity.publicKey);
      const ba = await safetyNumber(crypto, bob.identity.publicKey, alice.identity.publicKey);
      assert.match(ab, /^\d{60}$/);
      assert.equal(ab, ba);
      const ac = await safetyNumber(crypto, alice.identity.publicKey, carol.identity.publicKey);
      assert.notEqual(ab, ac);
      // Only identity keys count: a new device changes nothing.
      await certifyDevice(crypto, alice.identity);
      assert.equal(await safetyNumber(crypto, alice.identity.publicKey, bob.identity.publicKey), ab);
      assert.equal(formatSafetyNumber(ab).split(" ").length, 12);
      assert.throws(() => formatSafetyNumber("123"), SafetyNumberError);
      await assert.rejects(
        safetyNumber(crypto, new Uint8Array(33), bob.identity.publicKey),
        SafetyNumberError,
      );
    });

    it("safety numbers match an independent implementation (known answer)", async () => {
      // Computed with Python's hashlib from the construction in safety-number.ts.
      const a = Uint8Array.from({ length: 32 }, (_, i) => i);
      const b = Uint8Array.from({ length: 32 }, (_, i) => 32 + i);
      const expected = "047411029323127203832186402010257559384113265304292350735074";
      assert.equal(await safetyNumber(crypto, a, b), expected);
      assert.equal(
        toHex(await fingerprint(crypto, a, b)),
        "014e14a6d07b53e0dbe8713946e90951a2a3f4c91d5730797f13582ec2b802ee7fb5f7c727a5cc1ddf6dd5271d77ec77b3ee2619dfaad26123e8a7fd9d977aeeaa",
      );
    });

    it("the QR fingerprint verifies on the other side only", async () => {
      const alice = await createIdentity(crypto);
      const bob = await createIdentity(crypto);
      const mallory = await createIdentity(crypto);
      const shownByBob = await fingerprint(crypto, bob.identity.publicKey, alice.identity.publicKey);
      assert.equal(shownByBob.length, 65);
      assert.ok(
        await verifyFingerprint(crypto, alice.identity.publicKey, bob.identity.publicKey, shownByBob),
      );
      assert.ok(
        !(await verifyFingerprint(crypto, alice.identity.publicKey, mallory.identity.publicKey, shownByBob)),
      );
      const shownByAlice = await fingerprint(crypto, alice.identity.publicKey, bob.identity.publicKey);
      assert.ok(
        !(await verifyFingerprint(crypto, alice.identity.publicKey, bob.identity.publicKey, shownByAlice)),
      );
      assert.ok(
        !(await verifyFingerprint(crypto, alice.identity.publicKey, bob.identity.publicKey, fromHex("00"))),
      );
    });
  });
}
