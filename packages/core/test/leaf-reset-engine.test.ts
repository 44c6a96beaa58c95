/**
 * A key reset at the engine (issue 13): a commit that gives our leaf a new device key certified by a
 * new identity key. The other member follows it and sees the new identity at our leaf; the copy of
 * our old state (what an attacker took) cannot follow, and anything it commits is refused.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { nodeCryptoProvider } from "../src/crypto/node-provider.js";
import { equalBytes, fromUtf8, utf8 } from "../src/encoding/bytes.js";
import { certifyDevice, createIdentity } from "../src/identity/identity-key.js";
import { MlsProcessingError } from "../src/mls/engine.js";
import { Rfc9420Engine } from "../src/mls/rfc9420-engine/index.js";

const crypto = nodeCryptoProvider;
const engine = new Rfc9420Engine(crypto);

async function pair() {
  const alice = await createIdentity(crypto);
  const bob = await createIdentity(crypto);
  const akp = await engine.createKeyPackage(alice.device);
  const bkp = await engine.createKeyPackage(bob.device);
  const a0 = await engine.createGroup(crypto.randomBytes(16), alice.device, akp);
  const added = await engine.addMembers(a0, [bkp.publicMessage]);
  const b = await engine.joinFromWelcome(added.welcome, bkp);
  return { alice, bob, a: added.state, b };
}

describe("Rfc9420Engine: replacing our leaf's keys (reset)", () => {
  it("the other member follows, sees the new identity, and the old state's commits are refused", async () => {
    const { alice, a, b } = await pair();
    // The attacker's copy of Alice's state, taken before the reset.
    const copy = engine.deserialize(engine.serialize(a));
    const fresh = await createIdentity(crypto);
    const reset = await engine.commit(a, { device: fresh.device });
    const seen = await engine.process(b, reset.commits[0]!);
    assert.equal(seen.kind, "commit");
    assert.ok(seen.sender && equalBytes(seen.sender.identityKey, alice.identity.publicKey));
    const now = engine.members(seen.state).find((m) => m.leafIndex === seen.sender!.leafIndex)!;
    assert.ok(equalBytes(now.identityKey, fresh.identity.publicKey));
    assert.ok(equalBytes(now.deviceKey, fresh.device.deviceKey));
    // Both sides agree on the new epoch's secrets; the copy, one epoch behind, cannot derive them.
    const x = (s: Parameters<typeof engine.exportSecret>[0]) =>
      engine.exportSecret(s, "x", new Uint8Array(0), 32);
    assert.deepEqual(await x(reset.state), await x(seen.state));
    // New messages are signed with the new key and open for Bob.
    const hello = await engine.encrypt(reset.state, utf8("after the reset"));
    const got = await engine.process(seen.state, hello.message);
    assert.ok(got.kind === "application" && fromUtf8(got.plaintext) === "after the reset");
    assert.ok(equalBytes(got.sender.deviceKey, fresh.device.deviceKey));
    // The copy's commit is for the old epoch: refused.
    const forged = await engine.updateKeys(copy);
    await assert.rejects(engine.process(got.state, forged.commit), MlsProcessingError);
  });

  it("refuses a device whose certificate does not verify", async () => {
    const { a } = await pair();
    const fresh = await createIdentity(crypto);
    const other = await createIdentity(crypto);
    const device = await certifyDevice(crypto, other.identity);
    await assert.rejects(
      engine.commit(a, { device: { ...device, identityKey: fresh.identity.publicKey } }),
      /certificate/,
    );
  });
});
