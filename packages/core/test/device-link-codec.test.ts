/**
 * The device link's pieces (messaging/device-link.ts): the link format, the blob, the short code and
 * the sealed steps. The code is what the person compares, so it must differ whenever either device
 * saw a key that is not the other's; a step sealed under another key, or of the wrong kind, is refused.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import {
  ephemeralKey,
  formatDeviceLink,
  LinkError,
  linkSecrets,
  openLinkBlob,
  openLinkStep,
  parseDeviceLink,
  sealLinkBlob,
  sealLinkStep,
} from "../src/messaging/device-link.js";
import { crypto } from "./helpers/people.js";

const hello = {
  v: 1 as const,
  step: "hello" as const,
  device: "laptop",
  reply: { relay: "http://127.0.0.1:1", sendId: "abc" },
};

it("a link round-trips; an invite link or garbage is not a device link", () => {
  const key = crypto.randomBytes(32);
  const text = formatDeviceLink({ relay: "https://relay.example", inviteId: "A".repeat(22), key });
  const parsed = parseDeviceLink(text);
  assert.equal(parsed.relay, "https://relay.example");
  assert.deepEqual(parsed.key, key);
  assert.throws(() => parseDeviceLink(text.replace("/link/", "/invite/")), LinkError);
  assert.throws(() => parseDeviceLink("link"), LinkError);
});

it("both devices derive the same code; a swapped key on either side gives another", async () => {
  const a = ephemeralKey(crypto);
  const n = ephemeralKey(crypto);
  const onA = await linkSecrets(crypto, "id", a, n.publicKey, a.publicKey, n.publicKey);
  const onN = await linkSecrets(crypto, "id", n, a.publicKey, a.publicKey, n.publicKey);
  assert.equal(onA.code, onN.code);
  assert.deepEqual(onA.key, onN.key);
  assert.match(onA.code, /^\d{6}$/);
  // Someone who had the link said hello first with their own key: A's code is not N's.
  const thief = ephemeralKey(crypto);
  const raced = await linkSecrets(crypto, "id", a, thief.publicKey, a.publicKey, thief.publicKey);
  assert.notEqual(raced.code, onN.code);
  // A relay that swapped A's key in the blob: N computes with the relay's key.
  const relayKey = ephemeralKey(crypto);
  const swapped = await linkSecrets(crypto, "id", n, relayKey.publicKey, relayKey.publicKey, n.publicKey);
  assert.notEqual(swapped.code, onA.code);
  // Another link id, same keys: another code.
  const other = await linkSecrets(crypto, "id2", a, n.publicKey, a.publicKey, n.publicKey);
  assert.notEqual(other.code, onA.code);
});

it("steps open only under their key and only as the step expected", async () => {
  const key = crypto.randomBytes(32);
  const sealed = await sealLinkStep(crypto, key, hello);
  assert.equal((await openLinkStep(crypto, key, sealed, "hello")).device, "laptop");
  await assert.rejects(openLinkStep(crypto, crypto.randomBytes(32), sealed, "hello"), LinkError);
  await assert.rejects(openLinkStep(crypto, key, sealed, "profile"), LinkError);
  // Sealed under the right key, but not a valid hello (no name, no reply address).
  const bad = await sealLinkStep(crypto, key, { v: 1, step: "hello" } as never);
  await assert.rejects(openLinkStep(crypto, key, bad, "hello"), /malformed/);
  const tampered = sealed.slice();
  tampered[tampered.length - 1]! ^= 1;
  await assert.rejects(openLinkStep(crypto, key, tampered, "hello"), LinkError);
});

it("the blob opens with the link's key only", async () => {
  const key = crypto.randomBytes(32);
  const blob = { v: 1 as const, kind: "device-link" as const, sendId: "s", ephemeral: "A".repeat(43) };
  const sealed = await sealLinkBlob(crypto, key, blob);
  assert.deepEqual(await openLinkBlob(crypto, key, sealed), blob);
  await assert.rejects(
    openLinkBlob(crypto, crypto.randomBytes(32), sealed),
    (e: unknown) => e instanceof LinkError && e.reason === "wrong_key",
  );
});
