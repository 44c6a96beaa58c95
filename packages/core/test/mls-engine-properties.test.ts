/**
 * Property-based tests (fast-check) of Parley's RFC 9420 engine alone: random sequences of adds,
 * removes, updates, renames, combined commits and messages, by random members. After every step,
 * every member is in the same epoch with the same epoch authenticator, and every member's tree
 * satisfies the invariants a joiner checks (§7.8 tree hash = GroupContext.tree_hash, §7.9.2 parent
 * hashes, §12.4.3.1 unmerged leaves and key uniqueness), and holds private keys only for nodes whose
 * public key it matches, including the root's.
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
import { joinFromWelcome } from "../src/mls/rfc9420/join-welcome.js";
import { decodeMlsMessage, encodeMlsMessage } from "../src/mls/rfc9420/mls-message.js";
import { newKeyPackage } from "../src/mls/rfc9420/new-key-package.js";
import { verifyParentHashes } from "../src/mls/rfc9420/parent-hash.js";
import { processMessage } from "../src/mls/rfc9420/process-message.js";
import type { Suite } from "../src/mls/rfc9420/suite.js";
import { rootTreeHash } from "../src/mls/rfc9420/tree-hash.js";
import { verifyTreeInvariants } from "../src/mls/rfc9420/tree-invariants.js";

async function checkInvariants(s: Suite, states: GroupState[]): Promise<void> {
  const [first] = states;
  for (const st of states) {
    assert.equal(st.context.epoch, first!.context.epoch);
    assert.deepEqual(st.secrets.epochAuthenticator, first!.secrets.epochAuthenticator);
    assert.deepEqual(await rootTreeHash(s, st.tree), st.context.treeHash);
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
  // Every member knows the root's secret whenever the root is set (all our commits have a path).
  for (const st of states) {
    if (st.tree.node(st.tree.rootIndex) !== undefined)
      assert.ok(st.keys.has(st.tree.rootIndex), `leaf ${st.myLeaf}: root key`);
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
});
