/**
 * Parley's RFC 9420 engine against the official treekem.json vectors (§7.4–§7.6, §7.9): every
 * UpdatePath is parent-hash valid, every other member decrypts the expected path secret and commit
 * secret, the merged tree has the expected hash; then a fresh UpdatePath of ours from the same sender
 * is processed by every other member to the same commit secret.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { nobleCryptoProvider } from "../src/crypto/noble-provider.js";
import { nodeCryptoProvider } from "../src/crypto/node-provider.js";
import { decodeExact } from "../src/mls/rfc9420/codec.js";
import { encodeGroupContext } from "../src/mls/rfc9420/group-context.js";
import { verifyParentHashes } from "../src/mls/rfc9420/parent-hash.js";
import { decodeRatchetTree } from "../src/mls/rfc9420/ratchet-tree.js";
import type { Suite } from "../src/mls/rfc9420/suite.js";
import { rootTreeHash } from "../src/mls/rfc9420/tree-hash.js";
import {
  createUpdatePath,
  nodeKeyFromPathSecret,
  type PathKeys,
  processUpdatePath,
} from "../src/mls/rfc9420/treekem.js";
import { readUpdatePath } from "../src/mls/rfc9420/update-path.js";
import { vectors } from "./helpers/mls-engine-vectors.js";
import { hex } from "./helpers/mls-rfc.js";

type TK = {
  group_id: string;
  epoch: number;
  confirmed_transcript_hash: string;
  ratchet_tree: string;
  leaves_private: {
    index: number;
    encryption_priv: string;
    signature_priv: string;
    path_secrets: { node: number; path_secret: string }[];
  }[];
  update_paths: {
    sender: number;
    update_path: string;
    path_secrets: (string | null)[];
    commit_secret: string;
    tree_hash_after: string;
  }[];
};

for (const provider of [nodeCryptoProvider, nobleCryptoProvider]) {
  describe(`RFC 9420 engine: treekem vectors on the ${provider.name} provider`, () => {
    it("treekem", async (t) => {
      const vs = vectors<TK>(t, "treekem.json");
      if (!vs) return;
      const s: Suite = await provider.mlsCiphersuite("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519");
      let paths = 0;
      for (const v of vs) {
        const tree = decodeRatchetTree(hex(v.ratchet_tree));
        const context = (treeHash: Uint8Array) =>
          encodeGroupContext({
            version: 1,
            cipherSuite: 1,
            groupId: hex(v.group_id),
            epoch: BigInt(v.epoch),
            treeHash,
            confirmedTranscriptHash: hex(v.confirmed_transcript_hash),
            extensions: [],
          });
        const keysOf = new Map<number, PathKeys>();
        for (const lp of v.leaves_private) {
          const keys: PathKeys = new Map();
          keys.set(2 * lp.index, {
            privateKey: hex(lp.encryption_priv),
            publicKey: tree.leaf(lp.index)!.encryptionKey,
          });
          for (const ps of lp.path_secrets) {
            const k = await nodeKeyFromPathSecret(s, hex(ps.path_secret));
            const n = tree.parentNode(ps.node);
            assert.ok(n !== undefined, "private state matches a non-blank node");
            assert.deepEqual(k.publicKey, n.encryptionKey, "private state matches the tree's public key");
            keys.set(ps.node, k);
          }
          keysOf.set(lp.index, keys);
        }
        for (const up of v.update_paths) {
          const updatePath = decodeExact("UpdatePath", readUpdatePath, hex(up.update_path));
          let merged: string | undefined;
          for (const [j] of tree.nonBlankLeaves()) {
            if (j === up.sender) continue;
            const fork = tree.fork();
            const r = await processUpdatePath(s, {
              tree: fork,
              senderLeaf: up.sender,
              groupId: hex(v.group_id),
              updatePath,
              excluded: new Set(),
              context,
              myLeaf: j,
              myKeys: keysOf.get(j)!,
            });
            assert.deepEqual(r.pathSecret, hex(up.path_secrets[j]!), `leaf ${j}: path secret`);
            assert.deepEqual(r.commitSecret, hex(up.commit_secret), `leaf ${j}: commit secret`);
            assert.deepEqual(r.treeHash, hex(up.tree_hash_after));
            await verifyParentHashes(s, fork);
            merged ??= "ok";
          }
          assert.ok(merged);
          // Ours, from the same sender.
          const fork = tree.fork();
          const old = tree.leaf(up.sender)!;
          const created = await createUpdatePath(s, {
            tree: fork,
            leafIndex: up.sender,
            groupId: hex(v.group_id),
            signKey: hex(v.leaves_private.find((l) => l.index === up.sender)!.signature_priv),
            leaf: {
              signatureKey: old.signatureKey,
              credential: old.credential,
              capabilities: old.capabilities,
              extensions: old.extensions,
            },
            excluded: new Set(),
            context,
          });
          assert.deepEqual(created.treeHash, await rootTreeHash(s, fork));
          await verifyParentHashes(s, fork);
          for (const [j] of tree.nonBlankLeaves()) {
            if (j === up.sender) continue;
            const r = await processUpdatePath(s, {
              tree: tree.fork(),
              senderLeaf: up.sender,
              groupId: hex(v.group_id),
              updatePath: created.updatePath,
              excluded: new Set(),
              context,
              myLeaf: j,
              myKeys: keysOf.get(j)!,
            });
            assert.deepEqual(r.commitSecret, created.commitSecret, `leaf ${j}: our commit secret`);
            assert.deepEqual(r.treeHash, created.treeHash);
          }
          paths++;
        }
      }
      t.diagnostic(`${vs.length} cases, ${paths} update paths`);
    });
  });
}
