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
import { XWing } from "@noble/post-quantum/hybrid.js";
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
  getCiphersuiteImpl as tsGetCiphersuiteImpl,
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
import { createGroup } from "../src/mls/rfc9420/create-group.js";
import { CredentialType } from "../src/mls/rfc9420/credential.js";
import { MlsError } from "../src/mls/rfc9420/errors.js";
import { WireFormat } from "../src/mls/rfc9420/framing.js";
import type { GroupState } from "../src/mls/rfc9420/group-state.js";
import { joinFromWelcome } from "../src/mls/rfc9420/join-welcome.js";
import { greaseConsistent, type KeyPackage, readKeyPackage } from "../src/mls/rfc9420/key-package.js";
import { decodeMlsMessage, encodeMlsMessage } from "../src/mls/rfc9420/mls-message.js";
import { newKeyPackage } from "../src/mls/rfc9420/new-key-package.js";
import { processMessage } from "../src/mls/rfc9420/process-message.js";
import { decodeRatchetTree, type RatchetTree } from "../src/mls/rfc9420/ratchet-tree.js";
import type { Suite } from "../src/mls/rfc9420/suite.js";
import { verifyTreeInvariants } from "../src/mls/rfc9420/tree-invariants.js";
import { directPath } from "../src/mls/rfc9420/tree-math.js";
import { tsMlsSuite } from "../src/mls/ts-mls-engine.js";
import { vectors } from "./helpers/mls-engine-vectors.js";

interface Changes {
  add?: Uint8Array[]; // encoded MLSMessage(KeyPackage)
  remove?: number[];
  rename?: string;
  /** Our engine: an UpdatePath with an add-only commit too (createCommit's forcePath). */
  path?: boolean;
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
  /** Our engine's members: the current ratchet tree (what a Welcome of this epoch carries). */
  tree?(): RatchetTree;
}

interface Pending {
  name: string;
  engine: "ours" | "ts-mls";
  keyPackage: Uint8Array;
  join(welcome: Uint8Array): Promise<Member>;
}

let tsGreaseRejected = 0;
let tsKeyPackagesMade = 0;

/** `suite` for our side; `tsSuite` (default: the same object) is the one ts-mls runs on. */
function makeFactory(suite: Suite, tsSuite: Suite = suite) {
  const ctx: MlsContext = {
    cipherSuite: tsMlsSuite(tsSuite),
    authService: unsafeTestingAuthenticationService,
  };
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
      tree: () => state.tree,
      leaf: () => state.myLeaf,
      epoch: () => state.context.epoch,
      authenticator: () => state.secrets.epochAuthenticator,
      async commit(c) {
        const r = await createCommit(state, {
          ...(c.add ? { add: c.add.map(kpOf) } : {}),
          ...(c.remove ? { remove: c.remove } : {}),
          ...(c.path ? { forcePath: true } : {}),
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
        signatureKeyPair: await tsSuite.signature.keygen(),
        cipherSuite: tsMlsSuite(tsSuite),
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
    async ourFounder(name: string): Promise<Member> {
      const { signKey, publicKey } = await suite.signature.keygen();
      const kp = await newKeyPackage(suite, {
        credential: { type: CredentialType.basic, identity: utf8(name) },
        signatureKey: publicKey,
        signKey,
      });
      const state = await createGroup(suite, {
        groupId: utf8(`group-of-${name}`),
        leaf: kp.keyPackage.leafNode,
        encryptionPrivateKey: kp.encryptionPrivateKey,
        signKey,
      });
      return ourMember(name, state);
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
   * the leaf's direct path; RFC 9420 §12.4.3.1 only asks the nodes between the leaf and P to list it:
   * see "a strict joiner on a grown tree" below, which pins both behaviours). Such trees arise once a
   * path has set a node above a blank leaf that a later Add fills; from the first removal on, joiners
   * here use our engine.
   */
  private removedOnce = false;

  async commit(
    by: Member,
    c: { add?: ("ours" | "ts-mls")[]; remove?: Member[]; rename?: string; path?: boolean },
  ): Promise<void> {
    if (c.remove?.length) this.removedOnce = true;
    const engines = (c.add ?? []).map((e) => (this.removedOnce ? "ours" : e));
    const pending = await Promise.all(engines.map((e) => this.factory.pending(`m${this.n++}`, e)));
    const out = await by.commit({
      ...(pending.length ? { add: pending.map((p) => p.keyPackage) } : {}),
      ...(c.remove ? { remove: c.remove.map((m) => m.leaf()) } : {}),
      ...(c.rename !== undefined ? { rename: c.rename } : {}),
      ...(c.path ? { path: true } : {}),
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

/**
 * A strict peer joining a grown tree (the groups bench: "ts-mls refuses to join our grown trees").
 *
 * Who is right. RFC 9420 §12.1.1 (Add): "for each non-blank intermediate node along the path from the
 * leaf L to the root, add L's leaf index to the unmerged_leaves list for the node"; §7.5 (merging an
 * UpdatePath): every node of the committer's filtered direct path gets the new key and "the list of
 * unmerged leaves [set] to the empty list". So once a member whose lowest common ancestor with L is
 * some node Q commits with a path, Q and the nodes above it list nobody, while the non-blank nodes
 * between L and Q still list L. §12.4.3.1 (joining) asks exactly for that shape and no more:
 *
 *     "For each non-empty parent node and each entry in the node's unmerged_leaves field:
 *        - Verify that the entry represents a non-blank leaf node that is a descendant of the parent node.
 *        - Verify that every non-blank intermediate node between the leaf node and the parent node also
 *          has an entry for the leaf node in its unmerged_leaves."
 *
 * ts-mls rc.10 (clientState.js validateRatchetTree) instead walks the WHOLE direct path of L, above the
 * parent node too, and demands that every non-blank node there have an unmerged_leaves list EQUAL
 * (arraysEqual) to the parent's: "non-blank intermediate node must list leaf node in its
 * unmerged_leaves". That is stricter than §12.4.3.1 on two counts (nodes above the parent; equality
 * instead of membership) and refuses trees the RFC's own interop vectors call valid: tree-validation
 * vector 12 ("a tree with unmerged leaves: start with get_tree(7), then the leaf with index 0 adds a
 * member", mls-implementations) has node 11 = [7] under a non-blank root = []. OpenMLS reads the RFC as
 * we do: on join (group/public_group/mod.rs, valn1408/valn1409) it checks only the nodes of L's direct
 * path BELOW the parent (`path[..this_parent_offset]`), for membership (binary_search: its
 * UnmergedLeaves refuse unsorted lists when decoded, §7.1), and it builds the same shapes
 * (treesync/diff.rs add_leaf adds L to every non-blank parent of its direct path; a path resets them).
 *
 * Our engine is right; ts-mls is wrong. These tests pin that: ts-mls refuses exactly the trees that its
 * rule (modelled by `tsMlsUnmergedRule`) refuses and §12.4.3.1 accepts, with exactly that message, and
 * joins every other grown tree; our joiner joins every one.
 */
const TS_MLS_UNMERGED = "non-blank intermediate node must list leaf node in its unmerged_leaves";

/** ts-mls rc.10's rule, as written in clientState.js (not RFC 9420's): the first violation, or undefined. */
function tsMlsUnmergedRule(tree: RatchetTree): string | undefined {
  for (let x = 1; x < tree.width; x += 2) {
    const p = tree.parentNode(x);
    for (const l of p?.unmergedLeaves ?? []) {
      for (const y of directPath(2 * l, tree.leafCount)) {
        const q = tree.parentNode(y);
        if (q !== undefined && q.unmergedLeaves.join() !== p!.unmergedLeaves.join())
          return `node ${x} lists [${p!.unmergedLeaves}] (leaf ${l}), node ${y} lists [${q.unmergedLeaves}]`;
      }
    }
  }
  return undefined;
}

describe("a strict joiner on a grown tree (RFC 9420 §7.5, §12.1.1, §12.4.3.1)", () => {
  it("the RFC's own 'unmerged leaves' tree-validation vector is valid under §12.4.3.1 and refused by ts-mls' rule", (t) => {
    // Suite-1 entry 12 of tree-validation.json ("a tree with unmerged leaves").
    const all = vectors<{ tree: string }>(t, "tree-validation.json");
    if (all === undefined) return;
    const tree = decodeRatchetTree(Buffer.from(all[12]!.tree, "hex"));
    assert.deepEqual(tree.parentNode(11)?.unmergedLeaves, [7]);
    assert.deepEqual(tree.parentNode(7)?.unmergedLeaves, []);
    verifyTreeInvariants(tree); // §12.4.3.1: valid
    assert.equal(tsMlsUnmergedRule(tree), "node 11 lists [7] (leaf 7), node 7 lists []");
  });

  it("our join validation refuses what §12.4.3.1 and §7.1 refuse (invalid-tree), and accepts the rest", (t) => {
    // Suite-1 entry 13 ("unmerged leaves and skipping blanks", RFC 9420 Figure 20): node 11 = [5] and
    // the root, node 7 = [5]; leaves 4, 5 and 6 non-blank, nodes 9 and 13 blank.
    const all = vectors<{ tree: string }>(t, "tree-validation.json");
    if (all === undefined) return;
    const base = decodeRatchetTree(Buffer.from(all[13]!.tree, "hex"));
    assert.deepEqual(base.parentNode(11)?.unmergedLeaves, [5]);
    assert.deepEqual(base.parentNode(7)?.unmergedLeaves, [5]);
    const withUnmerged = (x: number, unmergedLeaves: number[]) => {
      const tree = base.fork();
      tree.setParent(x, { ...tree.parentNode(x)!, unmergedLeaves });
      return tree;
    };
    const refused = (tree: RatchetTree, why: RegExp) =>
      assert.throws(
        () => verifyTreeInvariants(tree),
        (e: unknown) => e instanceof MlsError && e.code === "invalid-tree" && why.test(e.message),
      );
    verifyTreeInvariants(base);
    verifyTreeInvariants(withUnmerged(11, [5, 6])); // leaf 6 unmerged at node 11 only: nothing between
    // §12.4.3.1: node 11 lies between leaf 5 and the root, which lists leaf 5.
    refused(withUnmerged(11, []), /between leaf 5 and node 7/);
    // §7.1: "The entries in the unmerged_leaves vector MUST be sorted in increasing order."
    refused(withUnmerged(11, [6, 5]), /increasing order/);
    refused(withUnmerged(11, [5, 5]), /increasing order/);
    refused(withUnmerged(11, [5, 2]), /not a non-blank descendant|increasing order/);
  });

  it("minimal: get_tree(7) grown by our engine, then leaf 0 adds — ts-mls refuses the Welcome, our engine joins it", async () => {
    const suite = await nodeCryptoProvider.mlsCiphersuite("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519");
    const f = makeFactory(suite);
    const g = new Group([await f.ourFounder("m0")], f);
    // The vectors' get_tree(7): leaf i commits (with a path) adding the member at leaf i + 1.
    for (let i = 0; i < 6; i++) await g.commit(g.members[i]!, { add: ["ours"], path: true });
    const [m0] = g.members;
    // Leaf 0 adds a ts-mls joiner (leaf 7) and one of ours (leaf 8; the tree doubles) in one commit.
    const ts = await f.pending("ts-joiner", "ts-mls");
    const ours = await f.pending("our-joiner", "ours");
    const out = await m0!.commit({ add: [ts.keyPackage, ours.keyPackage], path: true });
    for (const m of g.members.slice(1)) assert.equal(await m.process(out.commit), "ok");
    const tree = m0!.tree!();
    // Node 11 (leaves 4–7) was set by leaf 5's path, so the Add put leaf 7 in its unmerged_leaves
    // (§12.1.1); leaf 0's path then reset node 7 and the root to [] (§7.5). Node 11 still lists leaf 7.
    assert.deepEqual(tree.parentNode(11)?.unmergedLeaves, [7]);
    assert.deepEqual(tree.parentNode(7)?.unmergedLeaves, []);
    verifyTreeInvariants(tree);
    assert.equal(tsMlsUnmergedRule(tree), "node 11 lists [7] (leaf 7), node 7 lists []");
    await assert.rejects(ts.join(out.welcome!), (e: unknown) => String(e).includes(TS_MLS_UNMERGED));
    const joined = await ours.join(out.welcome!);
    g.members.push(joined);
    g.check("after the joins");
    await g.message(joined, "the tree ts-mls refused is a working group");
  });

  it("groups grown like the bench's (batches by three admins, updates, removals): ts-mls joins iff its rule allows, ours always", async () => {
    const suite = await nodeCryptoProvider.mlsCiphersuite("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519");
    const f = makeFactory(suite);
    const g = new Group([await f.ourFounder("admin-a")], f);
    let seed = 9420;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    await g.commit(g.members[0]!, { add: ["ours", "ours"] });
    const admins = g.members.slice(0, 3);
    let tsJoined = 0;
    let tsRefused = 0;
    for (let round = 0; round < 6; round++) {
      const admin = admins[round % 3]!;
      // A batch: our joiners through Group.commit, and a ts-mls joiner tried on the same Welcome.
      const ts = await f.pending(`ts${round}`, "ts-mls");
      const batch = await Promise.all(
        Array.from({ length: 3 + rand(4) }, (_, i) => f.pending(`r${round}-${i}`, "ours")),
      );
      const out = await admin.commit({ add: [ts.keyPackage, ...batch.map((p) => p.keyPackage)] });
      for (const m of g.members) if (m !== admin) assert.equal(await m.process(out.commit), "ok");
      for (const p of batch) g.members.push(await p.join(out.welcome!));
      const tree = admin.tree!();
      verifyTreeInvariants(tree); // §12.4.3.1 holds for every tree our engine grows
      const rule = tsMlsUnmergedRule(tree);
      if (rule === undefined) {
        g.members.push(await ts.join(out.welcome!));
        tsJoined++;
      } else {
        await assert.rejects(ts.join(out.welcome!), (e: unknown) => String(e).includes(TS_MLS_UNMERGED));
        tsRefused++;
      }
      g.check(`round ${round}: after the joins`);
      // Another admin removes two plain members (blanks that the next batch fills, §12.1.1); the
      // third updates; then a newcomer of ours rotates its keys (a path from the right of the tree).
      const newcomer = g.members[g.members.length - 1 - rand(batch.length)]!;
      const plain = g.members.filter((m) => !admins.includes(m) && m !== newcomer);
      const gone = [plain[rand(plain.length)]!];
      const second = plain.filter((m) => m !== gone[0]);
      gone.push(second[rand(second.length)]!);
      await g.commit(admins[(round + 1) % 3]!, { remove: gone });
      await g.commit(admins[(round + 2) % 3]!, {});
      await g.commit(newcomer, {});
      await g.message(g.members[g.members.length - 1]!, `round ${round}`);
    }
    // Both outcomes occur on these growths: the check is exercised both ways.
    assert.ok(tsRefused > 0 && tsJoined > 0, `ts-mls joined ${tsJoined}, refused ${tsRefused}`);
  });
});

/**
 * Post-quantum groups: cipher suite 0xF00D, MLS_256_XWING_AES256GCM_SHA512_Ed25519 (X-Wing KEM,
 * HKDF-SHA512, AES-256-GCM, SHA-512, Ed25519). Our side runs Parley's suite (src/crypto/xwing-suite.ts:
 * @noble/post-quantum's ML-KEM-768 with the provider's X25519); ts-mls runs its own (its default
 * provider: @hpke/hybridkem-x-wing over @hpke/core). Nothing is shared but the wire.
 */
for (const provider of [nodeCryptoProvider, nobleCryptoProvider]) {
  describe(`interop on X-Wing (0xF00D) with ts-mls' own X-Wing suite (${provider.name} provider)`, () => {
    const suites = async () => ({
      ours: await provider.mlsCiphersuite("MLS_256_XWING_AES256GCM_SHA512_Ed25519"),
      ts: await tsGetCiphersuiteImpl("MLS_256_XWING_AES256GCM_SHA512_Ed25519"),
    });

    it("the primitives agree: DeriveKeyPair, HPKE both ways, exporter, KDF, MAC, AEAD", async () => {
      const { ours, ts } = await suites();
      assert.equal(ours.id, 0xf00d);
      assert.equal(ts.id, 0xf00d);
      const ikm = utf8("X-Wing DeriveKeyPair input keying material");
      const [a, b] = [await ours.hpke.deriveKeyPair(ikm), await ts.hpke.deriveKeyPair(ikm)];
      const pub = await ours.hpke.exportPublicKey(a.publicKey);
      const priv = await ours.hpke.exportPrivateKey(a.privateKey);
      assert.equal(pub.length, 1216);
      assert.deepEqual(pub, await ts.hpke.exportPublicKey(b.publicKey));
      assert.deepEqual(priv, await ts.hpke.exportPrivateKey(b.privateKey));
      // @noble/post-quantum's own XWing (the draft's reference composition) derives the same key.
      assert.deepEqual(XWing.getPublicKey(priv), pub);
      const info = utf8("info");
      const sealed = await ours.hpke.seal(await ours.hpke.importPublicKey(pub), utf8("to ts-mls"), info);
      assert.equal(sealed.enc.length, 1120);
      const tsPriv = await ts.hpke.importPrivateKey(priv);
      assert.deepEqual(await ts.hpke.open(tsPriv, sealed.enc, sealed.ct, info), utf8("to ts-mls"));
      const back = await ts.hpke.seal(await ts.hpke.importPublicKey(pub), utf8("to us"), info);
      const ourPriv = await ours.hpke.importPrivateKey(priv);
      assert.deepEqual(await ours.hpke.open(ourPriv, back.enc, back.ct, info), utf8("to us"));
      const exp = await ours.hpke.exportSecret(await ours.hpke.importPublicKey(pub), utf8("ctx"), 48, info);
      assert.deepEqual(await ts.hpke.importSecret(tsPriv, utf8("ctx"), exp.enc, 48, info), exp.secret);
      const key = ours.rng.randomBytes(32);
      const nonce = ours.rng.randomBytes(12);
      assert.deepEqual(
        await ours.hpke.encryptAead(key, nonce, info, utf8("aead")),
        await ts.hpke.encryptAead(key, nonce, info, utf8("aead")),
      );
      const prk = await ours.kdf.extract(new Uint8Array(0), key);
      assert.deepEqual(prk, await ts.kdf.extract(new Uint8Array(0), key));
      assert.deepEqual(await ours.kdf.expand(prk, info, 100), await ts.kdf.expand(prk, info, 100));
      assert.deepEqual(await ours.hash.mac(key, info), await ts.hash.mac(key, info));
      assert.deepEqual(await ours.hash.digest(info), await ts.hash.digest(info));
    });

    for (const founder of ["ours", "ts-mls"] as const) {
      it(`a group created by ${founder === "ours" ? "our engine" : "ts-mls"}: joins, messages and commits both ways`, async () => {
        const { ours, ts } = await suites();
        const f = makeFactory(ours, ts);
        const g = new Group(
          [founder === "ours" ? await f.ourFounder("alice") : await f.tsFounder("alice")],
          f,
        );
        const alice = g.members[0]!;
        // The founder's Welcome brings in one joiner of each engine.
        await g.commit(alice, { add: ["ts-mls", "ours"] });
        const our = g.members.find((m) => m.engine === "ours")!;
        const theirs = g.members.find((m) => m.engine === "ts-mls")!;
        for (const m of g.members) await g.message(m, `hello from ${m.name}`);
        // ts-mls commits: an update, then an add whose Welcome our joiner opens.
        await g.commit(theirs, {});
        await g.commit(theirs, { add: ["ours"] });
        // Our engine commits: adds (a ts-mls joiner opens our Welcome) and a rename, then an update.
        await g.commit(our, { add: ["ts-mls"], rename: "post-quantum" });
        await g.commit(our, {});
        for (const m of g.members) await g.message(m, `bye from ${m.name}`);
        assert.ok(g.members.filter((m) => m.engine === "ts-mls").length >= 2);
        assert.ok(g.members.filter((m) => m.engine === "ours").length >= 2);
      });
    }
  });
}
