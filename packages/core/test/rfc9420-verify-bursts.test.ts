/**
 * Rfc9420Engine asks for its signature verifications in bursts (issue 10, performance): the node
 * provider sends a burst to libuv's thread pool, so both cores verify, while one verification at a
 * time runs alone on the main thread and the next waits for it.
 *
 *  - adding KeyPackages: each one's leaf signature, KeyPackage signature and device certificate, for
 *    every KeyPackage of the commit, are all outstanding at once (they were one after the other);
 *  - joining: the GroupInfo signature, every leaf signature and every member's device certificate
 *    are outstanding at once, before the tree is hashed (certificates came after the join's checks);
 *  - a member whose certificate does not certify its leaf's key still makes the join fail.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { encode, mlsMessageEncoder } from "ts-mls";
import { nodeCryptoProvider } from "../src/crypto/node-provider.js";
import type { CryptoProvider } from "../src/crypto/provider.js";
import { createIdentity } from "../src/identity/identity-key.js";
import { Rfc9420Engine } from "../src/mls/rfc9420-engine/index.js";
import { laxGroupAdding } from "./helpers/lax-ts-mls-group.js";

/** The node provider, counting the verifications outstanding at once (Ed25519 and the suite's). */
function counting(base: CryptoProvider) {
  const stats = { outstanding: 0, max: 0, calls: 0 };
  const reset = () => Object.assign(stats, { outstanding: 0, max: 0, calls: 0 });
  const wrap =
    <A extends unknown[]>(f: (...a: A) => Promise<boolean>) =>
    async (...a: A): Promise<boolean> => {
      stats.calls++;
      stats.outstanding++;
      stats.max = Math.max(stats.max, stats.outstanding);
      try {
        return await f(...a);
      } finally {
        stats.outstanding--;
      }
    };
  const provider: CryptoProvider = {
    ...base,
    name: `${base.name} (counting)`,
    ed25519Verify: wrap((pk, m, s) => base.ed25519Verify(pk, m, s)),
    async mlsCiphersuite(name) {
      const s = await base.mlsCiphersuite(name);
      return {
        ...s,
        signature: { ...s.signature, verify: wrap((pk, m, sig) => s.signature.verify(pk, m, sig)) },
      };
    },
  };
  return { provider, stats, reset };
}

const crypto = nodeCryptoProvider;

describe("Rfc9420Engine: verifications in bursts", () => {
  it("a commit adding 6 KeyPackages has all 18 of their verifications outstanding at once", async () => {
    const { provider, stats, reset } = counting(crypto);
    const engine = new Rfc9420Engine(provider);
    // KeyPackages made elsewhere: the engine that made them would have their certificates cached.
    const maker = new Rfc9420Engine(crypto);
    const people = await Promise.all(Array.from({ length: 7 }, () => createIdentity(crypto)));
    const kps = await Promise.all(people.map((p) => maker.createKeyPackage(p.device)));
    const g = await engine.createGroup(crypto.randomBytes(16), people[0]!.device, kps[0]!);
    reset();
    const r = await engine.commit(g, { add: kps.slice(1).map((k) => k.publicMessage) });
    assert.equal(r.added.length, 6);
    // Per KeyPackage: leaf signature, KeyPackage signature, device certificate.
    assert.equal(stats.calls, 18);
    assert.equal(stats.max, 18, "every verification asked for before the first one answered");
  });

  it("a join has the GroupInfo's, every leaf's and every certificate's verification outstanding at once", async () => {
    const { provider, stats, reset } = counting(crypto);
    const maker = new Rfc9420Engine(crypto);
    const people = await Promise.all(Array.from({ length: 8 }, () => createIdentity(crypto)));
    const kps = await Promise.all(people.map((p) => maker.createKeyPackage(p.device)));
    const g = await maker.createGroup(crypto.randomBytes(16), people[0]!.device, kps[0]!);
    const r = await maker.commit(g, { add: kps.slice(1).map((k) => k.publicMessage) });
    // The joiner's engine has verified no certificate yet.
    const engine = new Rfc9420Engine(provider);
    reset();
    const joined = await engine.joinFromWelcome(r.welcome!, kps[7]!);
    assert.equal(engine.members(joined).length, 8);
    // 1 GroupInfo + 8 leaves + 8 certificates.
    assert.equal(stats.calls, 17);
    assert.equal(stats.max, 17);
  });

  it("a member whose certificate does not certify its leaf's key: the join fails", async () => {
    // Mallory runs ts-mls directly with no authentication service, her leaf signed by a key that her
    // device certificate does not name.
    const [mallory, carol] = await Promise.all([createIdentity(crypto), createIdentity(crypto)]);
    const other = await crypto.ed25519Generate();
    const engine = new Rfc9420Engine(crypto);
    const carolKp = await engine.createKeyPackage(carol.device);
    const { added } = await laxGroupAdding(crypto, mallory.device, carolKp, other);
    await assert.rejects(
      engine.joinFromWelcome(encode(mlsMessageEncoder, added.welcome!), carolKp),
      /a credential in the group does not verify/,
    );
  });
});
