/**
 * Property-based tests (fast-check) of Parley's RFC 9420 engine alone: random sequences of adds,
 * removes, updates, renames, combined commits and messages, by random members. After every step,
 * every member is in the same epoch with the same epoch authenticator, and every member's tree
 * satisfies the invariants a joiner checks (§7.8 tree hash = GroupContext.tree_hash, §7.9.2 parent
 * hashes, §12.4.3.1 unmerged leaves and key uniqueness), and holds private keys only for nodes whose
 * public key it matches, and for every non-blank node of its direct path where it is not unmerged.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { nodeCryptoProvider } from "../src/crypto/node-provider.js";
import { equalBytes, utf8 } from "../src/encoding/bytes.js";
import { PARLEY_METADATA_EXTENSION } from "../src/mls/group-extensions.js";
import { decryptWithLabel, encryptWithLabel } from "../src/mls/labeled-crypto.js";
import { createApplicationMessage } from "../src/mls/rfc9420/application-message.js";
import { createCommit } from "../src/mls/rfc9420/create-commit.js";
import { createGroup } from "../src/mls/rfc9420/create-group.js";
import { CredentialType } from "../src/mls/rfc9420/credential.js";
import { WireFormat } from "../src/mls/rfc9420/framing.js";
import type { GroupState } from "../src/mls/rfc9420/group-state.js";
import { decodeGroupState, encodeGroupState } from "../src/mls/rfc9420/group-state-codec.js";
import { joinFromWelcome } from "../src/mls/rfc9420/join-welcome.js";
import type { LeafNode } from "../src/mls/rfc9420/leaf-node.js";
import { decodeMlsMessage, encodeMlsMessage } from "../src/mls/rfc9420/mls-message.js";
import { newKeyPackage } from "../src/mls/rfc9420/new-key-package.js";
import { verifyParentHashes } from "../src/mls/rfc9420/parent-hash.js";
import { processMessage } from "../src/mls/rfc9420/process-message.js";
import {
  decodeRatchetTree,
  encodeRatchetTree,
  RatchetTree,
  type TreeNode,
} from "../src/mls/rfc9420/ratchet-tree.js";
import type { Suite } from "../src/mls/rfc9420/suite.js";
import { rootTreeHash, treeHash } from "../src/mls/rfc9420/tree-hash.js";
import { verifyTreeInvariants } from "../src/mls/rfc9420/tree-invariants.js";
import { directPath } from "../src/mls/rfc9420/tree-math.js";
import { addLeaf, removeLeaf, updateLeaf } from "../src/mls/rfc9420/tree-operations.js";

/** A tree with the same nodes and nothing cached (no hashes, no encoded chunks). */
function fresh(tree: RatchetTree): RatchetTree {
  const nodes: (TreeNode | undefined)[] = [];
  for (let i = 0; i < tree.width; i++) nodes.push(tree.node(i));
  return RatchetTree.fromNodes(nodes);
}

/**
 * The caches of `tree` against a from-scratch computation: every cached tree hash equals the hash of
 * that subtree computed on a copy that starts with nothing cached, the root hash too, and the wire form written from the
 * cached chunks equals the one written node by node.
 */
async function checkCaches(s: Suite, tree: RatchetTree): Promise<void> {
  const scratch = fresh(tree);
  for (let x = 0; x < tree.width; x++) {
    const cached = tree.cachedHash(x);
    if (cached !== undefined)
      assert.deepEqual(cached, await treeHash(s, scratch, x), `cached tree hash of node ${x}`);
  }
  assert.deepEqual(await rootTreeHash(s, tree), await rootTreeHash(s, scratch));
  assert.deepEqual(encodeRatchetTree(tree), encodeRatchetTree(fresh(tree)), "cached wire form");
}

async function checkInvariants(s: Suite, states: GroupState[]): Promise<void> {
  const [first] = states;
  for (const st of states) {
    assert.equal(st.context.epoch, first!.context.epoch);
    assert.deepEqual(st.secrets.epochAuthenticator, first!.secrets.epochAuthenticator);
    assert.deepEqual(await rootTreeHash(s, st.tree), st.context.treeHash);
    await checkCaches(s, st.tree);
    // The same after a persistence round trip (stored hashes, chunks seeded from the stored bytes).
    const reloaded = decodeGroupState(s, encodeGroupState(st));
    await checkCaches(s, reloaded.tree);
    assert.deepEqual(encodeGroupState(reloaded), encodeGroupState(st));
    verifyTreeInvariants(st.tree);
    await verifyParentHashes(s, st.tree);
    assert.ok(st.tree.leaf(st.myLeaf) !== undefined);
    // Every private key we hold opens what is sealed to its node's public key.
    for (const [x, k] of st.keys) {
      const n = st.tree.node(x)!;
      const pub = n.kind === "leaf" ? n.leaf.encryptionKey : n.parent.encryptionKey;
      assert.ok(equalBytes(pub, k.publicKey), `node ${x}: key matches the tree`);
      const sealed = await encryptWithLabel(s.hpke, pub, "probe", new Uint8Array(0), utf8("x"));
      assert.deepEqual(
        await decryptWithLabel(
          s.hpke,
          k.privateKey,
          "probe",
          new Uint8Array(0),
          sealed.kemOutput,
          sealed.ciphertext,
        ),
        utf8("x"),
      );
    }
  }
  // The tree invariant (§4.1, §7.5, §12.1.1): a member holds the private key of every non-blank node
  // of its direct path exactly where it is not an unmerged leaf (an add-only commit has no path, so
  // its joiners start unmerged at every non-blank ancestor and learn those keys from the next path).
  for (const st of states) {
    for (const x of directPath(2 * st.myLeaf, st.tree.leafCount)) {
      const p = st.tree.parentNode(x);
      if (p === undefined) continue;
      const unmerged = p.unmergedLeaves.includes(st.myLeaf);
      assert.equal(st.keys.has(x), !unmerged, `leaf ${st.myLeaf}, node ${x}: key iff not unmerged`);
    }
  }
}

describe("RFC 9420 engine: properties over random operation sequences", () => {
  it("every member agrees and every tree stays valid after every step", async () => {
    const s: Suite = await nodeCryptoProvider.mlsCiphersuite("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519");
    let n = 0;
    const newClient = async () => {
      const { signKey, publicKey } = await s.signature.keygen();
      const kp = await newKeyPackage(s, {
        credential: { type: CredentialType.basic, identity: utf8(`c${n++}`) },
        signatureKey: publicKey,
        signKey,
      });
      return { signKey, ...kp };
    };
    const op = fc.record({
      kind: fc.constantFrom("add", "add2", "remove", "update", "rename", "combined", "message"),
      by: fc.nat(),
      target: fc.nat(),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 3, maxLength: 12 }), async (ops) => {
        const founder = await newClient();
        let members: GroupState[] = [
          await createGroup(s, {
            groupId: utf8(`g${n}`),
            leaf: founder.keyPackage.leafNode,
            encryptionPrivateKey: founder.encryptionPrivateKey,
            signKey: founder.signKey,
          }),
        ];
        for (const o of ops) {
          const i = o.by % members.length;
          const by = members[i]!;
          const others = members.filter((_, j) => j !== i);
          const victim = others.length > 0 ? others[o.target % others.length]! : undefined;
          if (o.kind === "message") {
            const m = await createApplicationMessage(by, utf8(`m${o.target}`));
            const bytes = encodeMlsMessage(m.message);
            members = await Promise.all(
              members.map(async (st, j) => {
                if (j === i) return m.state;
                const r = await processMessage(st, decodeMlsMessage(bytes));
                assert.ok(r.kind === "application" && equalBytes(r.data, utf8(`m${o.target}`)));
                return r.state;
              }),
            );
            continue;
          }
          const joiners = await Promise.all(
            Array.from(
              { length: o.kind === "add" || o.kind === "combined" ? 1 : o.kind === "add2" ? 2 : 0 },
              newClient,
            ),
          );
          const remove = (o.kind === "remove" || o.kind === "combined") && victim ? [victim.myLeaf] : [];
          const c = await createCommit(by, {
            add: joiners.map((j) => j.keyPackage),
            remove,
            ...(o.kind === "rename" || o.kind === "combined"
              ? { extensions: [{ type: PARLEY_METADATA_EXTENSION, data: utf8(`n${o.target}`) }] }
              : {}),
            wireFormat: o.target % 2 === 0 ? "private" : "public",
          });
          const bytes = encodeMlsMessage(c.commit);
          const next: GroupState[] = [];
          for (const [j, st] of members.entries()) {
            if (j === i) {
              next.push(c.state);
              continue;
            }
            const r = await processMessage(st, decodeMlsMessage(bytes));
            assert.ok(r.kind === "commit");
            if (remove.includes(st.myLeaf)) assert.ok(r.removedUs);
            else next.push(r.state);
          }
          for (const j of joiners) {
            const w = decodeMlsMessage(encodeMlsMessage(c.welcome!));
            assert.ok(w.wireFormat === WireFormat.welcome);
            next.push(
              await joinFromWelcome(s, {
                welcome: w.welcome,
                keyPackage: j.keyPackage,
                initPrivateKey: j.initPrivateKey,
                encryptionPrivateKey: j.encryptionPrivateKey,
                signPrivateKey: j.signKey,
              }),
            );
          }
          members = next;
          await checkInvariants(s, members);
        }
      }),
      { numRuns: 15, seed: 7 },
    );
  });
  it("cached tree hashes and wire chunks equal a from-scratch computation after random tree changes", async () => {
    const s: Suite = await nodeCryptoProvider.mlsCiphersuite("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519");
    const rnd = (n: number) => s.rng.randomBytes(n);
    const leaf = (): LeafNode => ({
      encryptionKey: rnd(32),
      signatureKey: rnd(32),
      credential: { type: CredentialType.basic, identity: rnd(8) },
      capabilities: { versions: [1], cipherSuites: [1], extensions: [], proposals: [], credentials: [1] },
      source: 1,
      lifetime: { notBefore: 0n, notAfter: 1n },
      extensions: [],
      signature: rnd(64),
    });
    const step = fc.record({
      kind: fc.constantFrom("add", "add", "remove", "update", "parent", "hash", "encode", "fork", "reload"),
      a: fc.nat(),
      b: fc.nat(),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 5, maxLength: 60 }), async (steps) => {
        // Several trees that share storage (forks), each changed on its own.
        const trees: RatchetTree[] = [RatchetTree.single(leaf())];
        for (const st of steps) {
          const k = st.a % trees.length;
          const t = trees[k]!;
          const leaves = [...t.nonBlankLeaves()].map(([l]) => l);
          if (st.kind === "add") {
            for (let i = 0; i <= st.b % 24; i++) addLeaf(t, leaf());
          } else if (st.kind === "remove" && leaves.length > 1) {
            removeLeaf(t, leaves[st.b % leaves.length]!);
          } else if (st.kind === "update") {
            updateLeaf(t, leaves[st.b % leaves.length]!, leaf());
          } else if (st.kind === "parent" && t.width > 1) {
            const x = 2 * (st.b % Math.floor(t.width / 2)) + 1;
            t.setParent(x, { encryptionKey: rnd(32), parentHash: rnd(32), unmergedLeaves: [] });
          } else if (st.kind === "hash") {
            await rootTreeHash(s, t);
          } else if (st.kind === "encode") {
            encodeRatchetTree(t);
          } else if (st.kind === "fork") {
            trees.push(t.fork());
          } else if (st.kind === "reload") {
            // Only trees whose last non-blank node is a leaf have a wire form (§12.4.3.3).
            let last = t.width - 1;
            while (t.node(last) === undefined) last--;
            if (last % 2 === 0) trees[k] = decodeRatchetTree(encodeRatchetTree(t));
          }
          for (const tree of trees) await checkCaches(s, tree);
        }
      }),
      { numRuns: 40, seed: 11 },
    );
  });
});
