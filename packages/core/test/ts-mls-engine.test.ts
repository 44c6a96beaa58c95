import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type CiphersuiteImpl,
  createCommit,
  createGroup,
  decode,
  defaultProposalTypes,
  encode,
  generateKeyPackageWithKey,
  joinGroup,
  type KeyPackage,
  type MlsContext,
  mlsMessageDecoder,
  mlsMessageEncoder,
  privateKeyPackageDecoder,
  unsafeTestingAuthenticationService,
  wireformats,
} from "ts-mls";
import { nobleCryptoProvider } from "../src/crypto/noble-provider.js";
import { nodeCryptoProvider } from "../src/crypto/node-provider.js";
import type { CryptoProvider } from "../src/crypto/provider.js";
import { equalBytes, utf8 } from "../src/encoding/bytes.js";
import { deviceMlsCredential, signDeviceCertificate } from "../src/identity/credential.js";
import type { DeviceIdentity } from "../src/identity/device.js";
import { createIdentity, type NewIdentity } from "../src/identity/identity-key.js";
import {
  type GroupState,
  type KeyPackageBundle,
  type Member,
  type MlsEngine,
  MlsProcessingError,
} from "../src/mls/engine.js";
import { Rfc9420Engine } from "../src/mls/rfc9420-engine/index.js";
import { parleyCapabilities, TsMlsEngine, tsMlsSuite, wireKindOf } from "../src/mls/ts-mls-engine.js";

/** The seam's promises hold for both engines; where they differ (ts-mls' extra commits) it is said. */
const ENGINES = [
  ["TsMlsEngine", (c: CryptoProvider) => new TsMlsEngine(c)],
  ["Rfc9420Engine", (c: CryptoProvider) => new Rfc9420Engine(c)],
] as const;

const SUITE = "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519" as const;
const text = (s: string) => utf8(s);
const groupId = (crypto: CryptoProvider) => crypto.randomBytes(16);

function assertMember(actual: Member, person: NewIdentity, leafIndex?: number): void {
  assert.ok(equalBytes(actual.identityKey, person.identity.publicKey), "identity key");
  assert.ok(equalBytes(actual.deviceKey, person.device.deviceKey), "device key");
  if (leafIndex !== undefined) assert.equal(actual.leafIndex, leafIndex);
}

async function processApplication(engine: MlsEngine, state: GroupState, message: Uint8Array) {
  const r = await engine.process(state, message);
  assert.equal(r.kind, "application");
  if (r.kind !== "application") throw new Error("unreachable");
  return r;
}

/** A KeyPackage made with ts-mls directly, so its credential can be anything while its MLS signatures are valid. */
async function rawKeyPackage(
  suite: CiphersuiteImpl,
  credential: ReturnType<typeof deviceMlsCredential> | { credentialType: 1; identity: Uint8Array },
  keyPair: { secretKey: Uint8Array; publicKey: Uint8Array },
) {
  const kp = await generateKeyPackageWithKey({
    credential,
    capabilities: parleyCapabilities(),
    extensions: [], // no GREASE extension outside the capabilities (RFC 9420 §13.5 / §7.3)
    signatureKeyPair: { signKey: keyPair.secretKey, publicKey: keyPair.publicKey },
    cipherSuite: suite,
  });
  const bytes = encode(mlsMessageEncoder, {
    version: 1,
    wireformat: wireformats.mls_key_package,
    keyPackage: kp.publicPackage,
  });
  return { ...kp, bytes };
}

/** A device of `victim`'s identity whose certificate was made by `forger`'s identity key. */
async function forgedDevice(
  crypto: CryptoProvider,
  victim: NewIdentity,
  forger: NewIdentity,
): Promise<DeviceIdentity> {
  const keys = await crypto.ed25519Generate();
  return {
    identityKey: victim.identity.publicKey,
    deviceKey: keys.publicKey,
    deviceSecretKey: keys.secretKey,
    certificate: await signDeviceCertificate(crypto, forger.identity.secretKey, keys.publicKey),
  };
}

function decodeKeyPackage(bundle: KeyPackageBundle): KeyPackage {
  const m = decode(mlsMessageDecoder, bundle.publicMessage);
  if (m?.wireformat !== wireformats.mls_key_package) throw new Error("not a KeyPackage");
  return m.keyPackage;
}

for (const [engineName, make] of ENGINES)
  for (const crypto of [nobleCryptoProvider, nodeCryptoProvider]) {
    describe(`${engineName} (${crypto.name} provider)`, () => {
      const engine = make(crypto);
      const ts = engineName === "TsMlsEngine";

      async function pair() {
        const alice = await createIdentity(crypto);
        const bob = await createIdentity(crypto);
        const aliceKp = await engine.createKeyPackage(alice.device);
        const created = await engine.createGroup(groupId(crypto), alice.device, aliceKp);
        const bobKp = await engine.createKeyPackage(bob.device);
        const added = await engine.addMembers(created, [bobKp.publicMessage]);
        const bobState = await engine.joinFromWelcome(added.welcome, bobKp);
        return { alice, bob, aliceState: added.state, bobState, added };
      }

      it("two members: application messages round-trip with the right sender", async () => {
        const { alice, bob, aliceState, bobState, added } = await pair();
        assert.equal(wireKindOf(added.commit), "private");
        assert.equal(wireKindOf(added.welcome), "welcome");
        assert.equal(added.added.length, 1);
        assertMember(added.added[0]!, bob, 1);
        assert.equal(aliceState.epoch, 1n);
        assert.equal(bobState.epoch, 1n);
        assert.ok(equalBytes(aliceState.groupId, bobState.groupId));
        assert.equal(engine.ownLeafIndex(aliceState), 0);
        assert.equal(engine.ownLeafIndex(bobState), 1);
        const members = engine.members(bobState);
        assert.equal(members.length, 2);
        assertMember(members[0]!, alice, 0);
        assertMember(members[1]!, bob, 1);

        let a = aliceState;
        let b = bobState;
        for (let i = 0; i < 3; i++) {
          const sent = await engine.encrypt(a, text(`hello ${i}`));
          assert.equal(wireKindOf(sent.message), "private");
          a = sent.state;
          const got = await processApplication(engine, b, sent.message);
          b = got.state;
          assert.deepEqual(got.plaintext, text(`hello ${i}`));
          assertMember(got.sender, alice, 0);
        }
        const reply = await engine.encrypt(b, text("hi alice"));
        const got = await processApplication(engine, a, reply.message);
        assert.deepEqual(got.plaintext, text("hi alice"));
        assertMember(got.sender, bob, 1);
      });

      it("three members, added in one commit; a later add is reported to everyone", async () => {
        const [alice, bob, carol, dave] = await Promise.all([1, 2, 3, 4].map(() => createIdentity(crypto)));
        const aliceKp = await engine.createKeyPackage(alice!.device);
        let a = await engine.createGroup(groupId(crypto), alice!.device, aliceKp);
        const bobKp = await engine.createKeyPackage(bob!.device);
        const carolKp = await engine.createKeyPackage(carol!.device);
        const added = await engine.addMembers(a, [bobKp.publicMessage, carolKp.publicMessage]);
        a = added.state;
        assert.equal(added.added.length, 2);
        assertMember(added.added[0]!, bob!, 1);
        assertMember(added.added[1]!, carol!, 2);
        let b = await engine.joinFromWelcome(added.welcome, bobKp);
        let c = await engine.joinFromWelcome(added.welcome, carolKp);
        assert.equal(engine.members(c).length, 3);

        const fromCarol = await engine.encrypt(c, text("carol here"));
        c = fromCarol.state;
        const atAlice = await processApplication(engine, a, fromCarol.message);
        a = atAlice.state;
        assertMember(atAlice.sender, carol!, 2);
        const atBob = await processApplication(engine, b, fromCarol.message);
        b = atBob.state;
        assertMember(atBob.sender, carol!, 2);

        const fromBob = await engine.encrypt(b, text("bob here"));
        b = fromBob.state;
        for (const s of [a, c]) {
          const r = await processApplication(engine, s, fromBob.message);
          assertMember(r.sender, bob!, 1);
          if (s === a) a = r.state;
          else c = r.state;
        }

        // Bob adds Dave: Alice and Carol learn who was added and by whom.
        const daveKp = await engine.createKeyPackage(dave!.device);
        const addDave = await engine.addMembers(b, [daveKp.publicMessage]);
        b = addDave.state;
        for (const s of [a, c]) {
          const r = await engine.process(s, addDave.commit);
          assert.equal(r.kind, "commit");
          if (r.kind !== "commit") return;
          assertMember(r.sender!, bob!, 1);
          assert.equal(r.added.length, 1);
          assertMember(r.added[0]!, dave!, 3);
          assert.deepEqual(r.removed, []);
          assert.equal(r.state.epoch, 2n);
          if (s === a) a = r.state;
          else c = r.state;
        }
        const d = await engine.joinFromWelcome(addDave.welcome, daveKp);
        const hello = await engine.encrypt(d, text("dave here"));
        for (const s of [a, b, c]) {
          const r = await processApplication(engine, s, hello.message);
          assertMember(r.sender, dave!, 3);
        }
      });

      it("a tampered message is rejected and leaves the state usable and unchanged", async () => {
        const { alice, aliceState, bobState } = await pair();
        const sent = await engine.encrypt(aliceState, text("genuine"));
        const before = engine.serialize(bobState);
        // Flip a byte in the content ciphertext (at the end) and one in the sender data (near the start).
        for (const at of [sent.message.length - 5, 30]) {
          const tampered = sent.message.slice();
          tampered[at]! ^= 0x01;
          await assert.rejects(engine.process(bobState, tampered), MlsProcessingError);
        }
        const truncated = sent.message.subarray(0, sent.message.length - 1);
        await assert.rejects(engine.process(bobState, truncated), MlsProcessingError);
        const extended = new Uint8Array(sent.message.length + 1);
        extended.set(sent.message);
        await assert.rejects(engine.process(bobState, extended), /bytes after the MLS message/);
        const after = engine.serialize(bobState);
        assert.deepEqual(after, before);
        const got = await processApplication(engine, bobState, sent.message);
        assert.deepEqual(got.plaintext, text("genuine"));
        assertMember(got.sender, alice, 0);
      });

      it("joinFromWelcome refuses a Welcome whose cipher suite is not the KeyPackage's (§12.4.3.1)", async () => {
        const alice = await createIdentity(crypto);
        const bob = await createIdentity(crypto);
        const created = await engine.createGroup(
          groupId(crypto),
          alice.device,
          await engine.createKeyPackage(alice.device),
        );
        const bobKp = await engine.createKeyPackage(bob.device);
        const { welcome } = await engine.addMembers(created, [bobKp.publicMessage]);
        // MLSMessage: version u16, wire_format u16, then the Welcome's cipher_suite u16 (0x0001).
        assert.deepEqual([...welcome.subarray(0, 6)], [0, 1, 0, 3, 0, 1]);
        for (const suite of [0x0101, 0x0002, 0x0000]) {
          const other = welcome.slice();
          other[4] = suite >> 8;
          other[5] = suite & 0xff;
          await assert.rejects(engine.joinFromWelcome(other, bobKp), MlsProcessingError);
        }
        assert.equal((await engine.joinFromWelcome(welcome, bobKp)).epoch, 1n);
      });

      it("rejects messages of another group, non-PrivateMessages and replays", async () => {
        const one = await pair();
        const two = await pair();
        const other = await engine.encrypt(two.aliceState, text("wrong group"));
        await assert.rejects(engine.process(one.bobState, other.message), /another group/);
        // A Welcome or a KeyPackage is not something `process` takes.
        await assert.rejects(engine.process(one.bobState, one.added.welcome), /only PrivateMessages/);
        const kp = await engine.createKeyPackage(one.alice.device);
        await assert.rejects(engine.process(one.bobState, kp.publicMessage), MlsProcessingError);
        await assert.rejects(engine.process(one.bobState, text("garbage")), MlsProcessingError);
        // The same message twice: the second time its key is gone.
        const sent = await engine.encrypt(one.aliceState, text("once"));
        const first = await processApplication(engine, one.bobState, sent.message);
        await assert.rejects(engine.process(first.state, sent.message), MlsProcessingError);
        // Our own message comes back to us: rejected.
        await assert.rejects(engine.process(sent.state, sent.message), /our own leaf/);
      });

      it("a spent state is refused instead of computing with erased secrets", async () => {
        const { aliceState } = await pair();
        const sent = await engine.encrypt(aliceState, text("one"));
        await assert.rejects(engine.encrypt(aliceState, text("two")), /already used/);
        assert.throws(() => engine.serialize(aliceState), /already used/);
        assert.equal(engine.members(aliceState).length, 2); // public data stays readable
        await engine.encrypt(sent.state, text("two"));
      });

      it("rejects a device whose certificate was made by another identity key (forged device)", async () => {
        const { alice, bob, aliceState } = await pair();
        const mallory = await createIdentity(crypto);
        const forged = await forgedDevice(crypto, bob, mallory); // claims to be Bob's, certified by Mallory
        await assert.rejects(engine.createKeyPackage(forged), /certificate/);

        const suite = tsMlsSuite(await crypto.mlsCiphersuite(SUITE));
        const raw = await rawKeyPackage(suite, deviceMlsCredential(forged), {
          secretKey: forged.deviceSecretKey,
          publicKey: forged.deviceKey,
        });
        await assert.rejects(engine.inspectKeyPackage(raw.bytes), /credential/);
        await assert.rejects(engine.addMembers(aliceState, [raw.bytes]), /credential/);
        // The failed add spent nothing.
        const sent = await engine.encrypt(aliceState, text("still fine"));
        assert.equal(sent.state.epoch, 1n);
        // And an honest KeyPackage inspects to its owner.
        const honest = await engine.createKeyPackage(alice.device);
        const who = await engine.inspectKeyPackage(honest.publicMessage);
        assert.ok(equalBytes(who.identityKey, alice.identity.publicKey));
        assert.ok(equalBytes(who.deviceKey, alice.device.deviceKey));
      });

      it("inspectKeyPackage rejects validly signed KeyPackages with bad Parley credentials", async () => {
        const suite = tsMlsSuite(await crypto.mlsCiphersuite(SUITE));
        const alice = await createIdentity(crypto);
        const keys = await crypto.ed25519Generate();
        const bad: { identity: Uint8Array; why: string }[] = [];
        // Not a Parley credential at all.
        bad.push({ identity: text("alice@example.org"), why: "free-form identity" });
        // Right shape, wrong version byte.
        const goodCert = await signDeviceCertificate(crypto, alice.identity.secretKey, keys.publicKey);
        const wrongVersion = deviceMlsCredential({
          identityKey: alice.identity.publicKey,
          certificate: goodCert,
        });
        wrongVersion.identity[0] = 2;
        bad.push({ identity: wrongVersion.identity, why: "version 2" });
        // A genuine certificate of Alice's, but for another device key (copied from a real leaf).
        bad.push({
          identity: deviceMlsCredential({
            identityKey: alice.identity.publicKey,
            certificate: alice.device.certificate,
          }).identity,
          why: "certificate for another device key",
        });
        // Trailing byte.
        const long = new Uint8Array(98);
        long.set(
          deviceMlsCredential({ identityKey: alice.identity.publicKey, certificate: goodCert }).identity,
        );
        bad.push({ identity: long, why: "98 bytes" });
        for (const { identity, why } of bad) {
          const raw = await rawKeyPackage(suite, { credentialType: 1, identity }, keys);
          await assert.rejects(engine.inspectKeyPackage(raw.bytes), MlsProcessingError, why);
        }
        // The same key with a good credential passes: the rejections above are about the credential.
        const ok = await rawKeyPackage(
          suite,
          deviceMlsCredential({ identityKey: alice.identity.publicKey, certificate: goodCert }),
          keys,
        );
        const who = await engine.inspectKeyPackage(ok.bytes);
        assert.ok(equalBytes(who.identityKey, alice.identity.publicKey));
        // A KeyPackage whose MLS signature is broken is rejected too.
        const broken = ok.bytes.slice();
        broken[broken.length - 3]! ^= 1;
        await assert.rejects(engine.inspectKeyPackage(broken), /signature/);
      });

      it("the authentication service guards Welcome trees and received commits", async () => {
        // Mallory runs ts-mls without any credential checks and tries to slip a forged device in.
        const suite = tsMlsSuite(await crypto.mlsCiphersuite(SUITE));
        const lax: MlsContext = { cipherSuite: suite, authService: unsafeTestingAuthenticationService };
        const [mallory, bob, carol, victim] = await Promise.all(
          [1, 2, 3, 4].map(() => createIdentity(crypto)),
        );
        const forged = await forgedDevice(crypto, victim!, mallory!);
        const forgedKp = await rawKeyPackage(suite, deviceMlsCredential(forged), {
          secretKey: forged.deviceSecretKey,
          publicKey: forged.deviceKey,
        });
        const malloryKp = await rawKeyPackage(suite, deviceMlsCredential(mallory!.device), {
          secretKey: mallory!.device.deviceSecretKey,
          publicKey: mallory!.device.deviceKey,
        });
        const add = (kp: KeyPackage) => ({ proposalType: defaultProposalTypes.add, add: { keyPackage: kp } });
        const base = await createGroup({
          context: lax,
          groupId: groupId(crypto),
          keyPackage: malloryKp.publicPackage,
          privateKeyPackage: malloryKp.privatePackage,
        });

        // 1. A Welcome whose tree holds the forged leaf: Bob refuses to join.
        const bobKp = await engine.createKeyPackage(bob!.device);
        const withForged = await createCommit({
          context: lax,
          state: base,
          extraProposals: [add(forgedKp.publicPackage), add(decodeKeyPackage(bobKp))],
          ratchetTreeExtension: true,
        });
        await assert.rejects(
          engine.joinFromWelcome(encode(mlsMessageEncoder, withForged.welcome!), bobKp),
          /cannot join from Welcome/,
        );

        // 2. Carol joins an honest group of Mallory's, then Mallory commits the forged device: refused.
        const carolKp = await engine.createKeyPackage(carol!.device);
        const honest = await createCommit({
          context: lax,
          state: base,
          extraProposals: [add(decodeKeyPackage(carolKp))],
          ratchetTreeExtension: true,
        });
        const carolState = await engine.joinFromWelcome(encode(mlsMessageEncoder, honest.welcome!), carolKp);
        const sneaky = await createCommit({
          context: lax,
          state: honest.newState,
          extraProposals: [add(forgedKp.publicPackage)],
        });
        await assert.rejects(
          engine.process(carolState, encode(mlsMessageEncoder, sneaky.commit)),
          /credential/,
        );
        // Carol's state is untouched by the rejected commit and still reads Mallory's messages.
        assert.equal(engine.members(carolState).length, 2);

        // 3. The same KeyPackage through a PublicMessage commit is refused before anything else.
        const publicCommit = await createCommit({
          context: lax,
          state: honest.newState,
          extraProposals: [],
          wireAsPublicMessage: true,
        });
        await assert.rejects(
          engine.process(carolState, encode(mlsMessageEncoder, publicCommit.commit)),
          /only PrivateMessages/,
        );

        // Sanity: ts-mls itself, given Parley's service, refuses that Welcome.
        await assert.rejects(
          joinGroup({
            context: { cipherSuite: suite, authService: engine.authService },
            welcome: withForged.welcome!.welcome,
            keyPackage: decodeKeyPackage(bobKp),
            privateKeys: privateKeyPackageDecoder(bobKp.privateKey, 0)![0],
          }),
          /credential/i,
        );
      });

      it("remove: the removed member is told so and cannot read what follows", async () => {
        const [alice, bob, carol] = await Promise.all([1, 2, 3].map(() => createIdentity(crypto)));
        const aliceKp = await engine.createKeyPackage(alice!.device);
        let a = await engine.createGroup(groupId(crypto), alice!.device, aliceKp);
        const bobKp = await engine.createKeyPackage(bob!.device);
        const carolKp = await engine.createKeyPackage(carol!.device);
        const added = await engine.addMembers(a, [bobKp.publicMessage, carolKp.publicMessage]);
        a = added.state;
        let b = await engine.joinFromWelcome(added.welcome, bobKp);
        let c = await engine.joinFromWelcome(added.welcome, carolKp);
        const bobOld = b;

        await assert.rejects(engine.removeMembers(a, [0]), /our own leaf/);
        await assert.rejects(engine.removeMembers(a, [7]), /no member/);
        const removal = await engine.removeMembers(a, [1]);
        a = removal.state;
        // ts-mls 2.0.0-rc.10 puts no UpdatePath in a single-Remove commit, so a path-only commit follows.
        // Ours: one commit with a path (RFC 9420 §12.4).
        assert.equal(removal.commits.length, ts ? 2 : 1);
        assert.equal(a.epoch, ts ? 3n : 2n);
        assert.equal(engine.members(a).length, 2);
        if (!ts) {
          const atCarol = await engine.process(c, removal.commits[0]!);
          assert.equal(atCarol.kind, "commit");
          if (atCarol.kind !== "commit") return;
          c = atCarol.state;
          assertMember(atCarol.sender!, alice!, 0);
          assert.equal(atCarol.removed.length, 1);
          assertMember(atCarol.removed[0]!, bob!, 1);
          const atBob = await engine.process(b, removal.commits[0]!);
          assert.equal(atBob.kind, "removed");
          assertMember(atBob.sender!, alice!, 0);
          b = atBob.state;
          const secret = await engine.encrypt(a, text("bob is gone"));
          const r = await processApplication(engine, c, secret.message);
          assert.deepEqual(r.plaintext, text("bob is gone"));
          await assert.rejects(engine.process(b, secret.message), MlsProcessingError);
          await assert.rejects(engine.encrypt(b, text("still here?")), MlsProcessingError);
          await assert.rejects(engine.process(bobOld, secret.message), MlsProcessingError);
          return;
        }

        const atCarol = await engine.process(c, removal.commits[0]!);
        assert.equal(atCarol.kind, "commit");
        if (atCarol.kind !== "commit") return;
        c = atCarol.state;
        assertMember(atCarol.sender!, alice!, 0);
        assert.equal(atCarol.removed.length, 1);
        assertMember(atCarol.removed[0]!, bob!, 1);
        assert.deepEqual(atCarol.added, []);
        // Between the two commits Bob could derive the keys: Carol will not send (even after a reload).
        await assert.rejects(engine.encrypt(c, text("too early")), /UpdatePath/);
        c = engine.deserialize(engine.serialize(c));
        await assert.rejects(engine.encrypt(c, text("too early")), /UpdatePath/);
        await assert.rejects(engine.addMembers(c, [bobKp.publicMessage]), /UpdatePath/);
        const healed = await engine.process(c, removal.commits[1]!);
        assert.equal(healed.kind, "commit");
        if (healed.kind !== "commit") return;
        assert.deepEqual([healed.added, healed.removed], [[], []]);
        assertMember(healed.sender!, alice!, 0);
        c = healed.state;

        const atBob = await engine.process(b, removal.commits[0]!);
        assert.equal(atBob.kind, "removed");
        assertMember(atBob.sender!, alice!, 0);
        b = atBob.state;
        await assert.rejects(engine.process(b, removal.commits[1]!), MlsProcessingError);

        const secret = await engine.encrypt(a, text("bob is gone"));
        const r = await processApplication(engine, c, secret.message);
        assert.deepEqual(r.plaintext, text("bob is gone"));
        await assert.rejects(engine.process(b, secret.message), MlsProcessingError);
        await assert.rejects(engine.encrypt(b, text("still here?")), MlsProcessingError);
        // Nor with his state from before the removal (spent, and from the wrong epoch anyway).
        await assert.rejects(engine.process(bobOld, secret.message), MlsProcessingError);
      });

      it("updateKeys commits a fresh path that the others follow", async () => {
        const { alice, bob, aliceState, bobState } = await pair();
        const up = await engine.updateKeys(bobState);
        assert.equal(up.state.epoch, 2n);
        const atAlice = await engine.process(aliceState, up.commit);
        assert.equal(atAlice.kind, "commit");
        if (atAlice.kind !== "commit") return;
        assertMember(atAlice.sender!, bob, 1);
        const m = await engine.encrypt(atAlice.state, text("after update"));
        const got = await processApplication(engine, up.state, m.message);
        assertMember(got.sender, alice, 0);
        // The members' device keys are unchanged; only HPKE keys moved.
        assert.deepEqual(engine.members(got.state), engine.members(aliceState));
      });

      it("reads a late message from the previous epoch after a commit", async () => {
        const { alice, bob, aliceState, bobState } = await pair();
        const carol = await createIdentity(crypto);
        const late = await engine.encrypt(bobState, text("sent before the commit"));
        const carolKp = await engine.createKeyPackage(carol.device);
        const added = await engine.addMembers(aliceState, [carolKp.publicMessage]); // Alice commits first
        const r = await processApplication(engine, added.state, late.message);
        assert.deepEqual(r.plaintext, text("sent before the commit"));
        assertMember(r.sender, bob, 1);
        // And Bob, after the commit, with his own late one from Alice.
        const fromAlice = await engine.encrypt(r.state, text("epoch 2"));
        const bobNext = await engine.process(late.state, added.commit);
        assert.equal(bobNext.kind, "commit");
        const got = await processApplication(engine, bobNext.state, fromAlice.message);
        assertMember(got.sender, alice, 0);
      });

      it("serialize/deserialize mid-conversation; the epoch part is stable within an epoch", async () => {
        const { alice, bob, aliceState, bobState } = await pair();
        let a = aliceState;
        let b = bobState;
        for (let i = 0; i < 3; i++) {
          const s = await engine.encrypt(a, text(`m${i}`));
          a = s.state;
          b = (await processApplication(engine, b, s.message)).state;
        }
        const savedA = engine.serialize(a);
        const savedB = engine.serialize(b);
        assert.equal(savedA.epoch, 1n);
        a = engine.deserialize(savedA);
        b = engine.deserialize(savedB);
        assert.deepEqual(engine.members(a), engine.members(aliceState));
        assert.equal(engine.ownLeafIndex(b), 1);

        const s1 = await engine.encrypt(a, text("after reload"));
        const got = await processApplication(engine, b, s1.message);
        assert.deepEqual(got.plaintext, text("after reload"));
        assertMember(got.sender, alice, 0);

        // Within an epoch only the ratchet part changes; an old epoch part + new ratchet part is a valid state.
        const nextB = engine.serialize(got.state);
        assert.deepEqual(nextB.epochPart, savedB.epochPart);
        assert.notDeepEqual(nextB.ratchetPart, savedB.ratchetPart);
        // (The tree, stored apart by engines that do, is the epoch's too: a message changes no piece.)
        assert.deepEqual(nextB.tree, savedB.tree);
        const mixed = engine.deserialize({
          epoch: nextB.epoch,
          epochPart: savedB.epochPart,
          ratchetPart: nextB.ratchetPart,
          ...(savedB.tree ? { tree: savedB.tree } : {}),
        });
        const reply = await engine.encrypt(mixed, text("from the mixed state"));
        const back = await processApplication(engine, s1.state, reply.message);
        assertMember(back.sender, bob, 1);
        assert.ok(nextB.ratchetPart.length < nextB.epochPart.length);

        // Parts of different epochs do not mix.
        const carol = await createIdentity(crypto);
        const carolKp = await engine.createKeyPackage(carol.device);
        const e2 = engine.serialize((await engine.addMembers(back.state, [carolKp.publicMessage])).state);
        assert.equal(e2.epoch, 2n);
        assert.throws(
          () =>
            engine.deserialize({
              epoch: 2n,
              epochPart: e2.epochPart,
              ratchetPart: nextB.ratchetPart,
              ...(e2.tree ? { tree: e2.tree } : {}),
            }),
          (e: unknown) => e instanceof MlsProcessingError && /epoch/.test(String((e as Error).cause ?? e)),
        );
        assert.throws(() => engine.deserialize({ ...e2, epoch: 1n }), MlsProcessingError);
        assert.throws(
          () => engine.deserialize({ ...e2, epochPart: e2.epochPart.subarray(0, 100) }),
          MlsProcessingError,
        );
      });
    });
  }

for (const [engineName, make] of ENGINES)
  describe(`${engineName} across providers`, () => {
    it("a node-provider member and a noble-provider member talk to each other", async () => {
      const nobleEngine = make(nobleCryptoProvider);
      const nodeEngine = make(nodeCryptoProvider);
      const alice = await createIdentity(nodeCryptoProvider);
      const bob = await createIdentity(nobleCryptoProvider);
      const aliceKp = await nodeEngine.createKeyPackage(alice.device);
      const bobKp = await nobleEngine.createKeyPackage(bob.device);
      assertMember(await nodeEngine.inspectKeyPackage(bobKp.publicMessage), bob);
      assertMember(await nobleEngine.inspectKeyPackage(aliceKp.publicMessage), alice);
      const g = await nodeEngine.createGroup(nodeCryptoProvider.randomBytes(16), alice.device, aliceKp);
      const added = await nodeEngine.addMembers(g, [bobKp.publicMessage]);
      let a = added.state;
      let b = await nobleEngine.joinFromWelcome(added.welcome, bobKp);
      for (let i = 0; i < 2; i++) {
        const s = await nodeEngine.encrypt(a, text(`node→noble ${i}`));
        a = s.state;
        const r = await processApplication(nobleEngine, b, s.message);
        b = r.state;
        assertMember(r.sender, alice, 0);
        const t = await nobleEngine.encrypt(b, text(`noble→node ${i}`));
        b = t.state;
        const u = await processApplication(nodeEngine, a, t.message);
        a = u.state;
        assertMember(u.sender, bob, 1);
        assert.deepEqual(u.plaintext, text(`noble→node ${i}`));
      }
      // A state saved by one engine loads in the other.
      const moved = nobleEngine.deserialize(nodeEngine.serialize(a));
      const s = await nobleEngine.encrypt(moved, text("moved"));
      assert.deepEqual((await processApplication(nobleEngine, b, s.message)).plaintext, text("moved"));
    });
  });
