/**
 * Differential test: one group whose members run Parley's RFC 9420 engine or ts-mls (the reference),
 * on both crypto providers. Adds (with Welcomes each way), removes, updates, renames
 * (GroupContextExtensions) and application messages in both directions, then a seeded random
 * sequence; after every step every member is in the same epoch with the same epoch authenticator.
 *
 * ts-mls KeyPackages whose GREASE extensions are not listed in their capabilities are invalid under
 * RFC 9420 §7.3 and our engine refuses them: they are regenerated here and counted (issue 10).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  acceptAll,
  type ClientState,
  defaultCapabilities,
  defaultCredentialTypes,
  defaultProposalTypes,
  encode,
  generateKeyPackageWithKey,
  type MlsContext,
  makeCustomExtension,
  mlsMessageDecoder,
  mlsMessageEncoder,
  type PrivateKeyPackage,
  type KeyPackage as TsKeyPackage,
  type Proposal as TsProposal,
  createApplicationMessage as tsCreateApplicationMessage,
  createCommit as tsCreateCommit,
  createGroup as tsCreateGroup,
  joinGroup as tsJoinGroup,
  processMessage as tsProcessMessage,
  unsafeTestingAuthenticationService,
  wireformats,
} from "ts-mls";
import { nobleCryptoProvider } from "../src/crypto/noble-provider.js";
import { nodeCryptoProvider } from "../src/crypto/node-provider.js";
import { equalBytes, utf8 } from "../src/mls/../encoding/bytes.js";
import { PARLEY_METADATA_EXTENSION } from "../src/mls/group-extensions.js";
import { createApplicationMessage } from "../src/mls/rfc9420/application-message.js";
import { decodeExact } from "../src/mls/rfc9420/codec.js";
import { createCommit } from "../src/mls/rfc9420/create-commit.js";
import { CredentialType } from "../src/mls/rfc9420/credential.js";
import { MlsError } from "../src/mls/rfc9420/errors.js";
import { WireFormat } from "../src/mls/rfc9420/framing.js";
import type { GroupState } from "../src/mls/rfc9420/group-state.js";
import { joinFromWelcome } from "../src/mls/rfc9420/join-welcome.js";
import { greaseConsistent, type KeyPackage, readKeyPackage } from "../src/mls/rfc9420/key-package.js";
import { decodeMlsMessage, encodeMlsMessage } from "../src/mls/rfc9420/mls-message.js";
import { newKeyPackage } from "../src/mls/rfc9420/new-key-package.js";
import { processMessage } from "../src/mls/rfc9420/process-message.js";
import type { Suite } from "../src/mls/rfc9420/suite.js";

interface Changes {
  add?: Uint8Array[]; // encoded MLSMessage(KeyPackage)
  remove?: number[];
  rename?: string;
}

interface Member {
  name: string;
  engine: "ours" | "ts-mls";
  leaf(): number;
  epoch(): bigint;
  authenticator(): Uint8Array;
  commit(c: Changes): Promise<{ commit: Uint8Array; welcome?: Uint8Array }>;
  /** "removed" when the commit removed this member. */
  process(message: Uint8Array): Promise<"ok" | "removed" | Uint8Array>;
  send(text: string): Promise<Uint8Array>;
}

interface Pending {
  name: string;
  engine: "ours" | "ts-mls";
  keyPackage: Uint8Array;
  join(welcome: Uint8Array): Promise<Member>;
}

let tsGreaseRejected = 0;
let tsKeyPackagesMade = 0;

function makeFactory(suite: Suite) {
  const ctx: MlsContext = { cipherSuite: suite, authService: unsafeTestingAuthenticationService };
  const tsDecode = (bytes: Uint8Array) => {
    const d = mlsMessageDecoder(bytes, 0);
    assert.ok(d !== undefined && d[1] === bytes.length);
    return d[0];
  };

  function tsMember(name: string, initial: ClientState): Member {
    let state = initial;
    const proposalsFor = (c: Changes): TsProposal[] => {
      const out: TsProposal[] = [];
      if (c.rename !== undefined) {
        out.push({
          proposalType: defaultProposalTypes.group_context_extensions,
          groupContextExtensions: {
            extensions: [
              makeCustomExtension({
                extensionType: PARLEY_METADATA_EXTENSION,
                extensionData: utf8(c.rename),
              }),
            ],
          },
        });
      }
      for (const removed of c.remove ?? [])
        out.push({ proposalType: defaultProposalTypes.remove, remove: { removed } });
      for (const kp of c.add ?? []) {
        const m = tsDecode(kp);
        assert.ok(m.wireformat === wireformats.mls_key_package);
        out.push({ proposalType: defaultProposalTypes.add, add: { keyPackage: m.keyPackage } });
      }
      return out;
    };
    return {
      name,
      engine: "ts-mls",
      leaf: () => state.privatePath.leafIndex,
      epoch: () => state.groupContext.epoch,
      authenticator: () => state.keySchedule.epochAuthenticator,
      async commit(c) {
        const extraProposals = proposalsFor(c);
        const r = await tsCreateCommit({
          context: ctx,
          state,
          extraProposals,
          ratchetTreeExtension: true,
          wireAsPublicMessage: false,
        });
        state = r.newState;
        return {
          commit: encode(mlsMessageEncoder, r.commit),
          ...(r.welcome !== undefined ? { welcome: encode(mlsMessageEncoder, r.welcome) } : {}),
        };
      },
      async process(bytes) {
        const m = tsDecode(bytes);
        assert.ok(
          m.wireformat === wireformats.mls_private_message || m.wireformat === wireformats.mls_public_message,
        );
        const r = await tsProcessMessage({ context: ctx, state, message: m, callback: acceptAll });
        state = r.newState;
        return r.kind === "applicationMessage" ? r.message : "ok";
      },
      async send(text) {
        const r = await tsCreateApplicationMessage({ context: ctx, state, message: utf8(text) });
        state = r.newState;
        return encode(mlsMessageEncoder, r.message);
      },
    };
  }

  function ourMember(name: string, initial: GroupState): Member {
    let state = initial;
    const kpOf = (bytes: Uint8Array): KeyPackage => {
      const m = decodeMlsMessage(bytes);
      assert.ok(m.wireFormat === WireFormat.keyPackage);
      return m.keyPackage;
    };
    return {
      name,
      engine: "ours",
      leaf: () => state.myLeaf,
      epoch: () => state.context.epoch,
      authenticator: () => state.secrets.epochAuthenticator,
      async commit(c) {
        const r = await createCommit(state, {
          ...(c.add ? { add: c.add.map(kpOf) } : {}),
          ...(c.remove ? { remove: c.remove } : {}),
          ...(c.rename !== undefined
            ? { extensions: [{ type: PARLEY_METADATA_EXTENSION, data: utf8(c.rename) }] }
            : {}),
        });
        state = r.state;
        return {
          commit: encodeMlsMessage(r.commit),
          ...(r.welcome !== undefined ? { welcome: encodeMlsMessage(r.welcome) } : {}),
        };
      },
      async process(bytes) {
        const r = await processMessage(state, decodeMlsMessage(bytes));
        if (r.kind === "commit" && r.removedUs) return "removed";
        state = r.state;
        return r.kind === "application" ? r.data : "ok";
      },
      async send(text) {
        const r = await createApplicationMessage(state, utf8(text));
        state = r.state;
        return encodeMlsMessage(r.message);
      },
    };
  }

  async function tsKeyPackage(
    name: string,
  ): Promise<{ publicPackage: TsKeyPackage; privatePackage: PrivateKeyPackage }> {
    const caps = defaultCapabilities();
    for (;;) {
      // As Parley's ts-mls engine makes them (generateKeyPackageWithKey adds random GREASE
      // KeyPackage extensions, chosen independently of the GREASE values in the capabilities).
      const kp = await generateKeyPackageWithKey({
        credential: { credentialType: defaultCredentialTypes.basic, identity: utf8(name) },
        capabilities: { ...caps, extensions: [PARLEY_METADATA_EXTENSION, ...caps.extensions] },
        signatureKeyPair: await suite.signature.keygen(),
        cipherSuite: suite,
      });
      tsKeyPackagesMade++;
      const bytes = encode(mlsMessageEncoder, {
        version: 1,
        wireformat: wireformats.mls_key_package,
        keyPackage: kp.publicPackage,
      });
      const ours = decodeExact("KeyPackage", readKeyPackage, bytes.subarray(4));
      if (greaseConsistent(ours)) return kp;
      tsGreaseRejected++;
    }
  }

  return {
    async pending(name: string, engine: "ours" | "ts-mls"): Promise<Pending> {
      if (engine === "ts-mls") {
        const kp = await tsKeyPackage(name);
        return {
          name,
          engine,
          keyPackage: encode(mlsMessageEncoder, {
            version: 1,
            wireformat: wireformats.mls_key_package,
            keyPackage: kp.publicPackage,
          }),
          async join(welcome) {
            const m = tsDecode(welcome);
            assert.ok(m.wireformat === wireformats.mls_welcome);
            const state = await tsJoinGroup({
              context: ctx,
              welcome: m.welcome,
              keyPackage: kp.publicPackage,
              privateKeys: kp.privatePackage,
            });
            return tsMember(name, state);
          },
        };
      }
      const { signKey, publicKey } = await suite.signature.keygen();
      const kp = await newKeyPackage(suite, {
        credential: { type: CredentialType.basic, identity: utf8(name) },
        signatureKey: publicKey,
        signKey,
      });
      return {
        name,
        engine,
        keyPackage: encodeMlsMessage({ wireFormat: WireFormat.keyPackage, keyPackage: kp.keyPackage }),
        async join(welcome) {
          const m = decodeMlsMessage(welcome);
          assert.ok(m.wireFormat === WireFormat.welcome);
          const state = await joinFromWelcome(suite, {
            welcome: m.welcome,
            keyPackage: kp.keyPackage,
            initPrivateKey: kp.initPrivateKey,
            encryptionPrivateKey: kp.encryptionPrivateKey,
            signPrivateKey: signKey,
          });
          return ourMember(name, state);
        },
      };
    },
    async tsFounder(name: string): Promise<Member> {
      const kp = await tsKeyPackage(name);
      const state = await tsCreateGroup({
        context: ctx,
        groupId: utf8(`group-of-${name}`),
        keyPackage: kp.publicPackage,
        privateKeyPackage: kp.privatePackage,
      });
      return tsMember(name, state);
    },
  };
}

/** A group under test: every commit goes to every other member, then the joiners join. */
class Group {
  constructor(
    readonly members: Member[],
    private readonly factory: ReturnType<typeof makeFactory>,
  ) {}
  private n = 0;
  /**
   * ts-mls rc.10 refuses to join a valid tree in which a leaf is unmerged at a parent P but not at a
   * non-blank ancestor above P (clientState.js compares the unmerged_leaves arrays of every node on
   * the leaf's direct path; RFC 9420 §7.9.2 only asks nodes between the leaf and P to list it). Such
   * trees arise as soon as a removal's path blanks part of a subtree and a later add fills it; from
   * then on, joiners here use our engine.
   */
  private removedOnce = false;

  async commit(
    by: Member,
    c: { add?: ("ours" | "ts-mls")[]; remove?: Member[]; rename?: string },
  ): Promise<void> {
    if (c.remove?.length) this.removedOnce = true;
    const engines = (c.add ?? []).map((e) => (this.removedOnce ? "ours" : e));
    const pending = await Promise.all(engines.map((e) => this.factory.pending(`m${this.n++}`, e)));
    const out = await by.commit({
      ...(pending.length ? { add: pending.map((p) => p.keyPackage) } : {}),
      ...(c.remove ? { remove: c.remove.map((m) => m.leaf()) } : {}),
      ...(c.rename !== undefined ? { rename: c.rename } : {}),
    });
    const removed = new Set(c.remove ?? []);
    for (const m of this.members) {
      if (m === by) continue;
      if (removed.has(m)) {
        if (m.engine === "ours") assert.equal(await m.process(out.commit), "removed");
        continue;
      }
      assert.equal(
        await m.process(out.commit),
        "ok",
        `${m.name} (${m.engine}) processes ${by.name}'s commit`,
      );
    }
    const remaining = this.members.filter((m) => !removed.has(m));
    for (const p of pending) {
      assert.ok(out.welcome, "a Welcome for the joiners");
      remaining.push(await p.join(out.welcome));
    }
    this.members.splice(0, this.members.length, ...remaining);
    this.check(`after ${by.name}'s commit`);
  }

  async message(from: Member, text: string): Promise<void> {
    const bytes = await from.send(text);
    for (const m of this.members) {
      if (m === from) continue;
      const got = await m.process(bytes);
      assert.ok(got instanceof Uint8Array && equalBytes(got, utf8(text)), `${m.name} reads ${from.name}`);
    }
  }

  check(when: string): void {
    const [first] = this.members;
    for (const m of this.members) {
      assert.equal(m.epoch(), first!.epoch(), `${when}: ${m.name} epoch`);
      assert.deepEqual(
        m.authenticator(),
        first!.authenticator(),
        `${when}: ${m.name} (${m.engine}) epoch authenticator`,
      );
    }
  }
}

for (const provider of [nodeCryptoProvider, nobleCryptoProvider]) {
  describe(`differential: Parley's engine and ts-mls in one group (${provider.name} provider)`, () => {
    it("adds, removes, updates, renames and messages both ways", async () => {
      const suite = await provider.mlsCiphersuite("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519");
      const f = makeFactory(suite);
      const g = new Group([await f.tsFounder("alice")], f);
      const alice = g.members[0]!;
      await g.commit(alice, { add: ["ours", "ts-mls"] }); // ts-mls Welcome → our joiner
      const ours = g.members.find((m) => m.engine === "ours")!;
      await g.message(ours, "from our engine");
      await g.message(alice, "from ts-mls");
      // Our engine: adds (one of each) and a rename in one commit with a path.
      await g.commit(ours, { add: ["ts-mls", "ours"], rename: "renamed" });
      // Our engine: a removal (with a path, §12.4).
      const victim = g.members.find((m) => m.engine === "ts-mls" && m !== alice)!;
      await g.commit(ours, { remove: [victim] });
      // ts-mls: an empty (update) commit and adds (the commits it builds to §12.4).
      await g.commit(alice, {});
      await g.commit(alice, { add: ["ours", "ts-mls"] });
      // Our engine removes one of ours and one of ts-mls' in one commit, adds and renames.
      const [v1, v2] = [
        g.members.find((m) => m.engine === "ours" && m !== ours)!,
        g.members.find((m) => m.engine === "ts-mls" && m !== alice)!,
      ];
      await g.commit(ours, { remove: [v1, v2], add: ["ours"], rename: "again" });
      // Our engine: an update.
      await g.commit(ours, {});
      for (const m of g.members) await g.message(m, `hello from ${m.name}`);
    });

    it("random operation sequences keep every member in step", async () => {
      const suite = await provider.mlsCiphersuite("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519");
      const op = fc.record({
        kind: fc.constantFrom("add", "remove", "update", "rename", "message", "add-remove"),
        by: fc.nat(),
        target: fc.nat(),
        engine: fc.constantFrom<"ours" | "ts-mls">("ours", "ts-mls"),
      });
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 4, maxLength: 10 }), async (ops) => {
          const f = makeFactory(suite);
          const g = new Group([await f.tsFounder("founder")], f);
          await g.commit(g.members[0]!, { add: ["ours"] });
          for (const o of ops) {
            let by = g.members[o.by % g.members.length]!;
            // ts-mls leaves the path out of single-Remove and GroupContextExtensions commits (§12.4
            // violation, refused by our engine — see below): those commits come from our members.
            if (by.engine === "ts-mls" && o.kind !== "add" && o.kind !== "update" && o.kind !== "message") {
              by = g.members.find((m) => m.engine === "ours") ?? by;
            }
            const others = g.members.filter((m) => m !== by);
            const target = others[o.target % Math.max(1, others.length)];
            if (o.kind === "add") await g.commit(by, { add: [o.engine] });
            else if (o.kind === "remove" && target && g.members.length > 2)
              await g.commit(by, { remove: [target] });
            else if (o.kind === "add-remove" && target && by.engine === "ours") {
              await g.commit(by, { remove: [target], add: [o.engine] });
            } else if (o.kind === "rename") await g.commit(by, { rename: `name ${o.target}` });
            else if (o.kind === "message") await g.message(by, `m${o.target}`);
            else await g.commit(by, {});
          }
        }),
        { numRuns: provider.name === "node" ? 12 : 4, seed: 9420 },
      );
    });
  });
}

describe("ts-mls commits outside RFC 9420 §12.4", () => {
  for (const kind of ["single Remove", "GroupContextExtensions"] as const) {
    it(`a ts-mls ${kind} commit has no path: our engine refuses it with path-required, state unchanged`, async () => {
      const suite = await nodeCryptoProvider.mlsCiphersuite("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519");
      const f = makeFactory(suite);
      const g = new Group([await f.tsFounder("alice")], f);
      const alice = g.members[0]!;
      await g.commit(alice, { add: ["ours", "ts-mls"] });
      const ours = g.members.find((m) => m.engine === "ours")!;
      const other = g.members.find((m) => m.engine === "ts-mls" && m !== alice)!;
      const before = ours.authenticator();
      const out = await alice.commit(kind === "single Remove" ? { remove: [other.leaf()] } : { rename: "x" });
      await assert.rejects(
        ours.process(out.commit),
        (e: unknown) => e instanceof MlsError && e.code === "path-required",
      );
      assert.deepEqual(ours.authenticator(), before);
      assert.equal(ours.epoch(), 1n);
    });
  }
});

describe("ts-mls KeyPackages and GREASE", () => {
  it("reports how many ts-mls KeyPackages had unlisted GREASE extensions (regenerated above)", (t) => {
    t.diagnostic(
      `ts-mls KeyPackages with GREASE extensions not in their capabilities: ${tsGreaseRejected} of ${tsKeyPackagesMade}`,
    );
  });
});
