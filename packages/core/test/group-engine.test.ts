/**
 * The group side of the MLS engine: commit() with any mix of changes, group metadata in the private
 * GroupContext extension, the commit policy every member enforces, and senderOf.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  createCommit,
  defaultProposalTypes,
  encode,
  generateKeyPackageWithKey,
  makeCustomExtension,
  mlsMessageEncoder,
} from "ts-mls";
import { nobleCryptoProvider } from "../src/crypto/noble-provider.js";
import { nodeCryptoProvider } from "../src/crypto/node-provider.js";
import { equalBytes, fromUtf8, toHex, utf8 } from "../src/encoding/bytes.js";
import { deviceMlsCredential } from "../src/identity/credential.js";
import { createIdentity, type NewIdentity } from "../src/identity/identity-key.js";
import {
  type CommitPolicy,
  type GroupState,
  type IncomingMessage,
  type KeyPackageBundle,
  keyPackageCipherSuiteId,
  MlsProcessingError,
} from "../src/mls/engine.js";
import { WireFormat } from "../src/mls/rfc9420/framing.js";
import { decodeMlsMessage } from "../src/mls/rfc9420/mls-message.js";
import { Rfc9420Engine } from "../src/mls/rfc9420-engine/index.js";
import {
  PARLEY_METADATA_EXTENSION,
  parleyCapabilities,
  TsMlsEngine,
  tsMlsSuite,
} from "../src/mls/ts-mls-engine.js";
import { laxGroupAdding } from "./helpers/lax-ts-mls-group.js";

const crypto = nodeCryptoProvider;
/** The seam's promises, for both engines. Where ts-mls needs several commits, ours makes one (§12.4). */
const ENGINES = [
  ["TsMlsEngine", new TsMlsEngine(crypto)],
  ["Rfc9420Engine", new Rfc9420Engine(crypto)],
] as const;

for (const [engineName, engine] of ENGINES) {
  const ts = engineName === "TsMlsEngine";

  /** A toy metadata format for the tests: JSON {name, admins: hex identity keys}. */
  const meta = (name: string, admins: NewIdentity[]) =>
    utf8(JSON.stringify({ name, admins: admins.map((a) => toHex(a.identity.publicKey)) }));
  const readMeta = (bytes: Uint8Array | undefined) =>
    bytes === undefined ? undefined : (JSON.parse(fromUtf8(bytes)) as { name: string; admins: string[] });

  /** Only admins (listed in the metadata before the commit) may add, remove or change the metadata. */
  const adminPolicy: CommitPolicy = (c) => {
    const admins = readMeta(engine.metadata(c.before))?.admins ?? [];
    const isAdmin = c.committer !== undefined && admins.includes(toHex(c.committer.identityKey));
    if (!isAdmin && (c.added.length > 0 || c.removed.length > 0 || c.metadata !== undefined))
      return "not an admin";
    return undefined;
  };

  /** An independent copy of a state (operations spend the state they are given). */
  const copy = (s: GroupState) => engine.deserialize(engine.serialize(s));

  function asCommit(r: IncomingMessage) {
    assert.equal(r.kind, "commit");
    if (r.kind !== "commit") throw new Error("unreachable");
    return r;
  }

  async function people(n: number) {
    return Promise.all(Array.from({ length: n }, () => createIdentity(crypto)));
  }

  /** Alice's group with everyone in `others` added in one commit; returns every member's state. */
  async function group(admins: "alice" | "none", n: number, name = "Book club") {
    const all = await people(n);
    const alice = all[0]!;
    const kps: KeyPackageBundle[] = [];
    for (const p of all) kps.push(await engine.createKeyPackage(p.device));
    const created = await engine.createGroup(
      crypto.randomBytes(16),
      alice.device,
      kps[0]!,
      meta(name, admins === "alice" ? [alice] : []),
    );
    const added = await engine.commit(created, { add: kps.slice(1).map((k) => k.publicMessage) });
    assert.equal(added.commits.length, 1);
    const states: GroupState[] = [added.state];
    for (const kp of kps.slice(1)) states.push(await engine.joinFromWelcome(added.welcome!, kp));
    return { all, states };
  }

  describe(`${engineName}: group engine: metadata`, () => {
    it("travels in the GroupContext: createGroup, Welcome, commits, persistence", async () => {
      const { all, states } = await group("alice", 3);
      const [alice, bob] = all as [NewIdentity, NewIdentity, NewIdentity];
      let [a, b, c] = states as [GroupState, GroupState, GroupState];
      for (const s of [a, b, c]) assert.equal(readMeta(engine.metadata(s))?.name, "Book club");

      // A metadata change alone: one commit, reported to the others with the new value.
      const renamed = await engine.commit(a, { metadata: meta("Readers", [alice, bob]) });
      assert.equal(renamed.commits.length, 1);
      assert.equal(renamed.welcome, undefined);
      a = renamed.state;
      assert.equal(readMeta(engine.metadata(a))?.name, "Readers");
      for (const which of ["b", "c"] as const) {
        const r = asCommit(await engine.process(which === "b" ? b : c, renamed.commits[0]!, adminPolicy));
        assert.deepEqual(readMeta(r.metadata)?.admins.length, 2);
        assert.equal(readMeta(engine.metadata(r.state))?.name, "Readers");
        if (which === "b") b = r.state;
        else c = r.state;
      }
      // A commit that does not touch the metadata reports none and keeps it.
      const update = await engine.commit(b, {});
      b = update.state;
      a = asCommit(await engine.process(a, update.commits[0]!, adminPolicy)).state;
      const seen = asCommit(await engine.process(c, update.commits[0]!, adminPolicy));
      assert.equal(seen.metadata, undefined);
      c = seen.state;
      assert.equal(readMeta(engine.metadata(c))?.name, "Readers");
      // Persistence keeps it.
      const reloaded = engine.deserialize(engine.serialize(c));
      assert.equal(readMeta(engine.metadata(reloaded))?.name, "Readers");

      // Bob (now an admin) adds Dave and renames in one commit: Dave joins with the new metadata.
      const [dave] = await people(1);
      const daveKp = await engine.createKeyPackage(dave!.device);
      const both = await engine.commit(b, {
        add: [daveKp.publicMessage],
        metadata: meta("Readers II", [bob]),
      });
      assert.equal(both.commits.length, 1);
      const d = await engine.joinFromWelcome(both.welcome!, daveKp);
      assert.equal(readMeta(engine.metadata(d))?.name, "Readers II");
      const atAlice = asCommit(await engine.process(a, both.commits[0]!, adminPolicy));
      assert.equal(readMeta(atAlice.metadata)?.name, "Readers II");
      assert.equal(atAlice.added.length, 1);
      assert.ok(equalBytes(atAlice.added[0]!.identityKey, dave!.identity.publicKey));
    });

    it("a group without metadata has none until a commit sets it", async () => {
      const [alice, bob] = await people(2);
      const aliceKp = await engine.createKeyPackage(alice!.device);
      const bobKp = await engine.createKeyPackage(bob!.device);
      const g = await engine.createGroup(crypto.randomBytes(16), alice!.device, aliceKp);
      assert.equal(engine.metadata(g), undefined);
      const added = await engine.commit(g, { add: [bobKp.publicMessage] });
      const b = await engine.joinFromWelcome(added.welcome!, bobKp);
      assert.equal(engine.metadata(b), undefined);
      const set = await engine.commit(added.state, { metadata: utf8("first") });
      const r = asCommit(await engine.process(b, set.commits[0]!));
      assert.deepEqual(r.metadata, utf8("first"));
      assert.deepEqual(engine.metadata(r.state), utf8("first"));
    });

    it("KeyPackages advertise the extension; the group requires it", async () => {
      const [alice, old] = await people(2);
      const aliceKp = await engine.createKeyPackage(alice!.device);
      const who = await engine.inspectKeyPackage(aliceKp.publicMessage);
      assert.ok(equalBytes(who.identityKey, alice!.identity.publicKey));
      assert.ok(parleyCapabilities().extensions.includes(PARLEY_METADATA_EXTENSION));
      const g = await engine.createGroup(crypto.randomBytes(16), alice!.device, aliceKp, utf8("x"));
      // A KeyPackage without the capability (made with ts-mls' defaults) cannot be added.
      const suite = await crypto.mlsCiphersuite("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519");
      const raw = await generateKeyPackageWithKey({
        credential: deviceMlsCredential(old!.device),
        signatureKeyPair: { signKey: old!.device.deviceSecretKey, publicKey: old!.device.deviceKey },
        cipherSuite: tsMlsSuite(suite),
      });
      const rawBytes = encode(mlsMessageEncoder, {
        version: 1,
        wireformat: 5,
        keyPackage: raw.publicPackage,
      });
      await assert.rejects(engine.commit(g, { add: [rawBytes] }), /metadata|capabilit/);
      await assert.rejects(engine.inspectKeyPackage(rawBytes), /metadata/);
    });
  });

  describe(`${engineName}: group engine: commit policy`, () => {
    it("a non-admin's add is rejected by every other member, who stay in sync", async () => {
      const { all, states } = await group("alice", 4);
      const [alice, bob, carol] = all as [NewIdentity, NewIdentity, NewIdentity, NewIdentity];
      let [a, b, c, d] = states as [GroupState, GroupState, GroupState, GroupState];
      const [eve] = await people(1);
      const eveKp = await engine.createKeyPackage(eve!.device);

      // Bob is no admin, but his client lets him try (a modified client would).
      const sneaky = await engine.commit(copy(b), { add: [eveKp.publicMessage] });
      for (const s of [a, c, d]) {
        const before = engine.serialize(s);
        await assert.rejects(engine.process(s, sneaky.commits[0]!, adminPolicy), (e: unknown) => {
          assert.ok(e instanceof MlsProcessingError);
          assert.equal(e.message, "commit rejected: not an admin");
          return true;
        });
        assert.deepEqual(engine.serialize(s), before, "a rejected commit changes nothing");
      }
      // The same for a removal and for a rename by Bob.
      const removal = await engine.commit(copy(b), { remove: [2] });
      await assert.rejects(
        engine.process(c, removal.commits[0]!, adminPolicy),
        /commit rejected: not an admin/,
      );
      const rename = await engine.commit(copy(b), { metadata: meta("Bob's club", [bob]) });
      await assert.rejects(engine.process(a, rename.commits[0]!, adminPolicy), /not an admin/);
      // A key update by a non-admin is fine.
      const update = await engine.commit(copy(b), {});
      const acceptedByCarol = asCommit(await engine.process(copy(c), update.commits[0]!, adminPolicy));
      assert.equal(acceptedByCarol.state.epoch, c.epoch + 1n);

      // Alice, Carol and Dave stay in the same epoch and keep talking; Bob's forked state cannot read them.
      const hello = await engine.encrypt(a, utf8("still here"));
      a = hello.state;
      const readers = [c, d].map(async (s) => {
        const r = await engine.process(s, hello.message, adminPolicy);
        assert.equal(r.kind, "application");
        if (r.kind === "application") assert.deepEqual(r.plaintext, utf8("still here"));
        return r.state;
      });
      [c, d] = (await Promise.all(readers)) as [GroupState, GroupState];
      // Bob's own client moved on alone: nobody follows him into his epoch.
      const forked = await engine.encrypt(sneaky.state, utf8("anyone?"));
      await assert.rejects(engine.process(a, forked.message), /future epoch/);

      // Alice's add of Eve is accepted by everyone, and Eve joins.
      const legit = await engine.commit(a, { add: [eveKp.publicMessage] });
      for (const s of [b, c, d]) {
        const r = asCommit(await engine.process(s, legit.commits[0]!, adminPolicy));
        assert.ok(equalBytes(r.sender!.identityKey, alice.identity.publicKey));
        assert.ok(equalBytes(r.added[0]!.identityKey, eve!.identity.publicKey));
        assert.equal(r.added[0]!.leafIndex, 4);
      }
      const e = await engine.joinFromWelcome(legit.welcome!, eveKp);
      assert.equal(engine.members(e).length, 5);
      void carol;
    });

    it("the policy sees the committer, the added and removed members, and the new metadata", async () => {
      const { all, states } = await group("alice", 4);
      const [alice, , carol] = all as NewIdentity[];
      const [a, b] = states as [GroupState, GroupState];
      const [eve] = await people(1);
      const eveKp = await engine.createKeyPackage(eve!.device);
      const change = await engine.commit(a, {
        add: [eveKp.publicMessage],
        remove: [2, 3],
        metadata: meta("Smaller", [alice!]),
      });
      // Two removes: ts-mls gives that commit a path; the add and the rename follow in a second one.
      // Ours: one commit with everything and a path.
      assert.equal(change.commits.length, ts ? 2 : 1);
      if (!ts) {
        const seen: Parameters<CommitPolicy>[0][] = [];
        const spare = copy(b);
        const r = asCommit(
          await engine.process(b, change.commits[0]!, (c) => {
            seen.push(c);
            return undefined;
          }),
        );
        const [one] = seen as [Parameters<CommitPolicy>[0]];
        assert.equal(one.before, b);
        assert.ok(equalBytes(one.committer!.identityKey, alice!.identity.publicKey));
        assert.deepEqual(
          one.removed.map((m) => m.leafIndex),
          [2, 3],
        );
        assert.ok(equalBytes(one.removed[0]!.identityKey, carol!.identity.publicKey));
        assert.equal(one.added.length, 1);
        assert.ok(equalBytes(one.added[0]!.identityKey, eve!.identity.publicKey));
        assert.equal(readMeta(one.metadata)?.name, "Smaller");
        assert.equal(readMeta(r.metadata)?.name, "Smaller");
        assert.equal(engine.members(r.state).length, 3);
        await assert.rejects(
          engine.process(spare, change.commits[0]!, () => {
            throw new Error("boom");
          }),
          /commit rejected: the policy failed: boom/,
        );
        return;
      }
      const seen: Parameters<CommitPolicy>[0][] = [];
      let r = asCommit(
        await engine.process(b, change.commits[0]!, (c) => {
          seen.push(c);
          return undefined;
        }),
      );
      const afterRemoval = r.state;
      const spare = copy(afterRemoval);
      r = asCommit(
        await engine.process(r.state, change.commits[1]!, (c) => {
          seen.push(c);
          return undefined;
        }),
      );
      const [removal, addition] = seen as [Parameters<CommitPolicy>[0], Parameters<CommitPolicy>[0]];
      assert.equal(removal.before, b);
      assert.ok(equalBytes(removal.committer!.identityKey, alice!.identity.publicKey));
      assert.deepEqual(
        removal.removed.map((m) => m.leafIndex),
        [2, 3],
      );
      assert.ok(equalBytes(removal.removed[0]!.identityKey, carol!.identity.publicKey));
      assert.deepEqual([removal.added, removal.metadata], [[], undefined]);
      assert.equal(addition.before, afterRemoval);
      assert.equal(addition.added.length, 1);
      assert.ok(equalBytes(addition.added[0]!.identityKey, eve!.identity.publicKey));
      assert.equal(readMeta(addition.metadata)?.name, "Smaller");
      assert.equal(readMeta(r.metadata)?.name, "Smaller");
      assert.equal(engine.members(r.state).length, 3);
      // A policy that throws rejects the commit.
      await assert.rejects(
        engine.process(spare, change.commits[1]!, () => {
          throw new Error("boom");
        }),
        /commit rejected: the policy failed: boom/,
      );
    });

    it("a single removal with an add: removal, path-only commit, then the add; joiners need none", async () => {
      const { all, states } = await group("alice", 3);
      let [a, b, c] = states as [GroupState, GroupState, GroupState];
      const [eve] = await people(1);
      const eveKp = await engine.createKeyPackage(eve!.device);
      const change = await engine.commit(a, { add: [eveKp.publicMessage], remove: [1], metadata: utf8("m") });
      if (!ts) {
        // One commit: the removal, the add and the rename, with a path; the Welcome is for its epoch.
        assert.equal(change.commits.length, 1);
        const e = await engine.joinFromWelcome(change.welcome!, eveKp);
        assert.equal(e.epoch, change.state.epoch);
        const atC = asCommit(await engine.process(c, change.commits[0]!, adminPolicy));
        assert.deepEqual(atC.metadata, utf8("m"));
        assert.equal(atC.removed.length, 1);
        assert.ok(equalBytes(atC.added[0]!.identityKey, eve!.identity.publicKey));
        assert.equal((await engine.process(b, change.commits[0]!)).kind, "removed");
        const m = await engine.encrypt(e, utf8("hi from eve"));
        assert.equal((await engine.process(atC.state, m.message)).kind, "application");
        return;
      }
      assert.equal(change.commits.length, 3);
      a = change.state;
      const e = await engine.joinFromWelcome(change.welcome!, eveKp);
      assert.equal(e.epoch, a.epoch);
      const first = asCommit(await engine.process(c, change.commits[0]!, adminPolicy));
      assert.equal(first.metadata, undefined);
      assert.equal(first.removed.length, 1);
      c = first.state;
      await assert.rejects(engine.encrypt(c, utf8("exposed")), /UpdatePath/);
      c = asCommit(await engine.process(c, change.commits[1]!)).state;
      const third = asCommit(await engine.process(c, change.commits[2]!));
      assert.deepEqual(third.metadata, utf8("m"));
      assert.ok(equalBytes(third.added[0]!.identityKey, eve!.identity.publicKey));
      c = third.state;
      assert.equal((await engine.process(b, change.commits[0]!)).kind, "removed");
      const m = await engine.encrypt(e, utf8("hi from eve"));
      const got = await engine.process(c, m.message);
      assert.equal(got.kind, "application");
      const fromA = await engine.encrypt(a, utf8("hi"));
      assert.equal((await engine.process(m.state, fromA.message)).kind, "application");
      void all;
    });

    it("refuses commits whose GroupContextExtensions go beyond the metadata", async () => {
      // Mallory runs ts-mls directly (no Parley rules) and tries to add an extension of her own.
      const [mallory, carol] = await people(2);
      const carolKp = await engine.createKeyPackage(carol!.device);
      const { lax, added: joined } = await laxGroupAdding(crypto, mallory!.device, carolKp);
      const c = await engine.joinFromWelcome(encode(mlsMessageEncoder, joined.welcome!), carolKp);
      const extra = await createCommit({
        context: lax,
        state: joined.newState,
        extraProposals: [
          {
            proposalType: defaultProposalTypes.group_context_extensions,
            groupContextExtensions: {
              extensions: [makeCustomExtension({ extensionType: 0xf0a2, extensionData: utf8("x") })],
            },
          },
        ],
      });
      await assert.rejects(
        engine.process(c, encode(mlsMessageEncoder, extra.commit)),
        // ts-mls leaves the path out of a GroupContextExtensions commit: ours refuses that first (§12.4).
        ts ? /GroupContext extension 61602 is not used/ : /path-required/,
      );
    });
  });

  describe(`${engineName}: group engine: senderOf`, () => {
    it("names the sender of our own and others' messages without processing them", async () => {
      const { states } = await group("alice", 3);
      let [a, b, c] = states as [GroupState, GroupState, GroupState];
      const fromB = await engine.encrypt(b, utf8("from bob"));
      b = fromB.state;
      assert.equal(await engine.senderOf(a, fromB.message), 1);
      assert.equal(await engine.senderOf(b, fromB.message), 1, "our own message, echoed back");
      assert.equal(await engine.senderOf(c, fromB.message), 1);
      // Nothing was processed: Carol still reads it.
      const r = await engine.process(c, fromB.message);
      assert.equal(r.kind, "application");
      c = r.state;
      // A commit's sender, and a late message from the previous epoch.
      const up = await engine.commit(c, {});
      assert.equal(await engine.senderOf(a, up.commits[0]!), 2);
      assert.equal(await engine.senderOf(up.state, up.commits[0]!), 2);
      const late = await engine.encrypt(a, utf8("late"));
      a = late.state;
      assert.equal(await engine.senderOf(up.state, late.message), 0);
      // Undecryptable: garbage, another group, a tampered sender data.
      assert.equal(await engine.senderOf(a, utf8("garbage")), undefined);
      const other = await group("none", 2);
      const foreign = await engine.encrypt(other.states[0]!, utf8("elsewhere"));
      assert.equal(await engine.senderOf(a, foreign.message), undefined);
      const tampered = fromB.message.slice();
      tampered[30]! ^= 1;
      assert.equal(await engine.senderOf(a, tampered), undefined);
    });
  });

  describe(`${engineName}: group engine: exporter`, () => {
    it("gives every member of an epoch the same secret, another one in the next epoch", async () => {
      const { states } = await group("alice", 3);
      const context = utf8("group id");
      const exports = await Promise.all(
        states.map((s) => engine.exportSecret(s, "parley group rendezvous queue", context, 32)),
      );
      assert.equal(exports[0]!.length, 32);
      for (const e of exports) assert.ok(equalBytes(e, exports[0]!));
      const other = await engine.exportSecret(states[0]!, "another label", context, 32);
      assert.ok(!equalBytes(other, exports[0]!));
      const next = await engine.commit(copy(states[0]!), { metadata: meta("Renamed", []) });
      const later = await engine.exportSecret(next.state, "parley group rendezvous queue", context, 32);
      assert.ok(!equalBytes(later, exports[0]!), "a new epoch, a new secret");
    });
  });
}

describe("Rfc9420Engine: post-quantum groups (X-Wing, 0xF00D)", () => {
  const PQ = "MLS_256_XWING_AES256GCM_SHA512_Ed25519" as const;
  for (const provider of [nodeCryptoProvider, nobleCryptoProvider]) {
    it(`a group's suite is its creator's KeyPackage's; members, messages, persistence (${provider.name})`, async () => {
      const engine = new Rfc9420Engine(provider);
      const [alice, bob, carol] = await Promise.all([1, 2, 3].map(() => createIdentity(provider)));
      const kpA = await engine.createKeyPackage(alice!.device, { cipherSuite: PQ });
      const kpB = await engine.createKeyPackage(bob!.device, { cipherSuite: PQ });
      const kpClassic = await engine.createKeyPackage(carol!.device);
      assert.equal(keyPackageCipherSuiteId(kpA.publicMessage), 0xf00d);
      assert.equal(keyPackageCipherSuiteId(kpClassic.publicMessage), 1);
      // Capabilities list both suites, whichever the KeyPackage is of (RFC 9420 §7.2).
      for (const kp of [kpA, kpClassic]) {
        const m = decodeMlsMessage(kp.publicMessage);
        assert.ok(m.wireFormat === WireFormat.keyPackage);
        assert.deepEqual(m.keyPackage.leafNode.capabilities.cipherSuites, [1, 0xf00d]);
      }
      let a = await engine.createGroup(provider.randomBytes(16), alice!.device, kpA);
      assert.equal(engine.cipherSuiteOf(a), PQ);
      // A suite-1 KeyPackage cannot enter an X-Wing group (§12.2: the KeyPackage's suite is the group's).
      await assert.rejects(engine.commit(a, { add: [kpClassic.publicMessage] }), MlsProcessingError);
      const added = await engine.commit(a, { add: [kpB.publicMessage] });
      a = added.state;
      let b = await engine.joinFromWelcome(added.welcome!, kpB);
      assert.equal(engine.cipherSuiteOf(b), PQ);
      const sent = await engine.encrypt(a, utf8("post-quantum hello"));
      a = sent.state;
      const got = await engine.process(b, sent.message);
      assert.ok(got.kind === "application" && fromUtf8(got.plaintext) === "post-quantum hello");
      b = got.state;
      // A fresh engine loads the stored state (the suite is read from the stored bytes).
      const fresh = new Rfc9420Engine(provider);
      b = fresh.deserialize(engine.serialize(b));
      assert.equal(fresh.cipherSuiteOf(b), PQ);
      const up = await fresh.updateKeys(b);
      const seen = await engine.process(a, up.commit);
      assert.equal(seen.kind, "commit");
      assert.deepEqual(
        await engine.exportSecret(seen.state, "x", new Uint8Array(0), 32),
        await fresh.exportSecret(up.state, "x", new Uint8Array(0), 32),
      );
    });
  }

  it("TsMlsEngine refuses to make X-Wing KeyPackages", async () => {
    const alice = await createIdentity(crypto);
    await assert.rejects(
      new TsMlsEngine(crypto).createKeyPackage(alice.device, { cipherSuite: PQ }),
      MlsProcessingError,
    );
  });
});
