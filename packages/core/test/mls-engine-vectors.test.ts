/**
 * Parley's RFC 9420 engine (src/mls/rfc9420/) against the official test vectors, part 1: the building
 * blocks — tree math, crypto basics, deserialization and every message struct, secret tree, key
 * schedule, PSK secret, transcript hashes, message protection, tree validation, tree operations.
 * Both crypto providers. Missing vector files fail under CI=true (helpers/mls-engine-vectors.ts).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { nobleCryptoProvider } from "../src/crypto/noble-provider.js";
import { nodeCryptoProvider } from "../src/crypto/node-provider.js";
import {
  decryptWithLabel,
  deriveSecret,
  deriveTreeSecret,
  encryptWithLabel,
  expandWithLabel,
  refHash,
  signWithLabel,
  verifyWithLabel,
} from "../src/mls/labeled-crypto.js";
import { decodeExact, encodeWith } from "../src/mls/rfc9420/codec.js";
import { readCommit, writeCommit } from "../src/mls/rfc9420/commit.js";
import { MlsError } from "../src/mls/rfc9420/errors.js";
import {
  ContentType,
  confirmedTranscriptHashInput,
  membershipTag,
  readAuthData,
  readFramedContent,
  SenderType,
  verifyFramedContent,
  WireFormat,
} from "../src/mls/rfc9420/framing.js";
import type { GroupContext } from "../src/mls/rfc9420/group-context.js";
import { encodeGroupContext } from "../src/mls/rfc9420/group-context.js";
import { epochSecrets, externalPub, mlsExporter } from "../src/mls/rfc9420/key-schedule.js";
import { verifyLeafNodeSignature } from "../src/mls/rfc9420/leaf-node.js";
import { decodeMlsMessage, encodeMlsMessage } from "../src/mls/rfc9420/mls-message.js";
import { verifyParentHashes } from "../src/mls/rfc9420/parent-hash.js";
import { protect, unprotect } from "../src/mls/rfc9420/private-message.js";
import {
  ProposalType,
  readProposal,
  readProposalBody,
  writeProposal,
  writeProposalBody,
} from "../src/mls/rfc9420/proposals.js";
import { PskType, pskSecret } from "../src/mls/rfc9420/psk.js";
import { decodeRatchetTree, encodeRatchetTree } from "../src/mls/rfc9420/ratchet-tree.js";
import { SecretTree } from "../src/mls/rfc9420/secret-tree.js";
import type { Suite } from "../src/mls/rfc9420/suite.js";
import {
  confirmationTag,
  confirmedTranscriptHash,
  interimTranscriptHash,
} from "../src/mls/rfc9420/transcript-hash.js";
import { rootTreeHash, treeHash } from "../src/mls/rfc9420/tree-hash.js";
import { verifyTreeInvariants } from "../src/mls/rfc9420/tree-invariants.js";
import * as tm from "../src/mls/rfc9420/tree-math.js";
import { applyProposalToTree } from "../src/mls/rfc9420/tree-operations.js";
import { readGroupSecrets, writeGroupSecrets } from "../src/mls/rfc9420/welcome.js";
import { TlsReader } from "../src/mls/tls-codec.js";
import { vectors } from "./helpers/mls-engine-vectors.js";
import { hex } from "./helpers/mls-rfc.js";

type V = Record<string, string>;

function reencode<T>(
  what: string,
  bytes: Uint8Array,
  read: (r: TlsReader) => T,
  write: (w: import("../src/mls/tls-codec.js").TlsWriter, v: T) => void,
) {
  const value = decodeExact(what, read, bytes);
  assert.deepEqual(encodeWith(write, value), bytes, `${what} re-encodes byte for byte`);
  return value;
}

describe("RFC 9420 engine vectors (suite-less)", () => {
  it("tree-math", (t) => {
    type TM = {
      n_leaves: number;
      n_nodes: number;
      root: number;
      left: (number | null)[];
      right: (number | null)[];
      parent: (number | null)[];
      sibling: (number | null)[];
    };
    const vs = vectors<TM>(t, "tree-math.json", true);
    if (!vs) return;
    for (const v of vs) {
      assert.equal(tm.nodeWidth(v.n_leaves), v.n_nodes);
      assert.equal(tm.root(v.n_leaves), v.root);
      for (let i = 0; i < v.n_nodes; i++) {
        const orNull = (f: () => number) => {
          try {
            return f();
          } catch (e) {
            assert.ok(e instanceof MlsError);
            return null;
          }
        };
        assert.equal(
          orNull(() => tm.left(i)),
          v.left[i],
        );
        assert.equal(
          orNull(() => tm.right(i)),
          v.right[i],
        );
        assert.equal(
          orNull(() => tm.parent(i, v.n_leaves)),
          v.parent[i],
        );
        assert.equal(
          orNull(() => tm.sibling(i, v.n_leaves)),
          v.sibling[i],
        );
      }
    }
    t.diagnostic(`${vs.length} cases`);
  });

  it("deserialization: varint headers", (t) => {
    const vs = vectors<{ vlbytes_header: string; length: number }>(t, "deserialization.json", true);
    if (!vs) return;
    for (const v of vs) {
      const r = new TlsReader(hex(v.vlbytes_header));
      assert.equal(r.varint(), v.length);
      r.end();
    }
    t.diagnostic(`${vs.length} cases`);
  });

  it("messages: every struct decodes and re-encodes byte for byte", (t) => {
    const vs = vectors<V>(t, "messages.json", true);
    if (!vs) return;
    const body = (type: number) =>
      [
        (r: TlsReader) => readProposalBody(r, type),
        writeProposalBody as (w: import("../src/mls/tls-codec.js").TlsWriter, p: unknown) => void,
      ] as const;
    for (const v of vs) {
      for (const f of [
        "mls_welcome",
        "mls_group_info",
        "mls_key_package",
        "public_message_application",
        "public_message_proposal",
        "public_message_commit",
        "private_message",
      ]) {
        const bytes = hex(v[f]!);
        assert.deepEqual(encodeMlsMessage(decodeMlsMessage(bytes)), bytes, f);
      }
      assert.deepEqual(
        encodeRatchetTree(decodeRatchetTree(hex(v.ratchet_tree!))),
        hex(v.ratchet_tree!),
        "ratchet_tree",
      );
      reencode("group_secrets", hex(v.group_secrets!), readGroupSecrets, writeGroupSecrets);
      reencode("commit", hex(v.commit!), readCommit, writeCommit);
      const bodies: [string, number][] = [
        ["add_proposal", ProposalType.add],
        ["update_proposal", ProposalType.update],
        ["remove_proposal", ProposalType.remove],
        ["pre_shared_key_proposal", ProposalType.psk],
        ["re_init_proposal", ProposalType.reinit],
        ["external_init_proposal", ProposalType.externalInit],
        ["group_context_extensions_proposal", ProposalType.groupContextExtensions],
      ];
      for (const [f, type] of bodies) {
        const [read, write] = body(type);
        reencode(f, hex(v[f]!), read, write);
      }
    }
    t.diagnostic(`${vs.length} cases`);
  });
});

for (const provider of [nodeCryptoProvider, nobleCryptoProvider]) {
  describe(`RFC 9420 engine vectors, suite 1 on the ${provider.name} provider`, () => {
    const cs = (): Promise<Suite> => provider.mlsCiphersuite("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519");

    it("crypto-basics", async (t) => {
      type CB = Record<string, Record<string, string>>;
      const vs = vectors<CB>(t, "crypto-basics.json");
      if (!vs) return;
      const s = await cs();
      for (const v of vs) {
        const r = v.ref_hash!;
        assert.deepEqual(await refHash(s.hash, r.label!, hex(r.value!)), hex(r.out!));
        const e = v.expand_with_label!;
        assert.deepEqual(
          await expandWithLabel(s.kdf, hex(e.secret!), e.label!, hex(e.context!), Number(e.length)),
          hex(e.out!),
        );
        const d = v.derive_secret!;
        assert.deepEqual(await deriveSecret(s.kdf, hex(d.secret!), d.label!), hex(d.out!));
        const dt = v.derive_tree_secret!;
        assert.deepEqual(
          await deriveTreeSecret(s.kdf, hex(dt.secret!), dt.label!, Number(dt.generation), Number(dt.length)),
          hex(dt.out!),
        );
        const sg = v.sign_with_label!;
        assert.ok(
          await verifyWithLabel(s.signature, hex(sg.pub!), sg.label!, hex(sg.content!), hex(sg.signature!)),
        );
        const mine = await signWithLabel(s.signature, hex(sg.priv!), sg.label!, hex(sg.content!));
        assert.ok(await verifyWithLabel(s.signature, hex(sg.pub!), sg.label!, hex(sg.content!), mine));
        const en = v.encrypt_with_label!;
        assert.deepEqual(
          await decryptWithLabel(
            s.hpke,
            hex(en.priv!),
            en.label!,
            hex(en.context!),
            hex(en.kem_output!),
            hex(en.ciphertext!),
          ),
          hex(en.plaintext!),
        );
        const sealed = await encryptWithLabel(
          s.hpke,
          hex(en.pub!),
          en.label!,
          hex(en.context!),
          hex(en.plaintext!),
        );
        assert.deepEqual(
          await decryptWithLabel(
            s.hpke,
            hex(en.priv!),
            en.label!,
            hex(en.context!),
            sealed.kemOutput,
            sealed.ciphertext,
          ),
          hex(en.plaintext!),
        );
      }
      t.diagnostic(`${vs.length} cases`);
    });

    it("secret-tree: sender data keys and every leaf's ratchets", async (t) => {
      type Leaf = { generation: number } & V;
      type ST = { encryption_secret: string; sender_data: V; leaves: Leaf[][] };
      const vs = vectors<ST>(t, "secret-tree.json");
      if (!vs) return;
      const s = await cs();
      const { senderDataKeyAndNonce } = await import("../src/mls/sender-data.js");
      let checks = 0;
      for (const v of vs) {
        const sd = v.sender_data;
        const kn = await senderDataKeyAndNonce(s, hex(sd.sender_data_secret!), hex(sd.ciphertext!));
        assert.deepEqual(kn.key, hex(sd.key!));
        assert.deepEqual(kn.nonce, hex(sd.nonce!));
        const tree = SecretTree.create(s, hex(v.encryption_secret), v.leaves.length);
        for (const [leaf, gens] of v.leaves.entries()) {
          for (const g of gens) {
            const a = await tree.consume(leaf, "application", g.generation);
            const h = await tree.consume(leaf, "handshake", g.generation);
            assert.deepEqual(a.key, hex(g.application_key!));
            assert.deepEqual(a.nonce, hex(g.application_nonce!));
            assert.deepEqual(h.key, hex(g.handshake_key!));
            assert.deepEqual(h.nonce, hex(g.handshake_nonce!));
            await assert.rejects(tree.consume(leaf, "application", g.generation), {
              code: "generation-consumed",
            });
            checks++;
          }
        }
      }
      t.diagnostic(`${vs.length} cases, ${checks} generations`);
    });

    it("key-schedule: group contexts, every epoch secret, external_pub, exporter", async (t) => {
      type Epoch = V & { exporter: { label: string; context: string; length: number; secret: string } };
      type KS = { group_id: string; initial_init_secret: string; epochs: Epoch[] };
      const vs = vectors<KS>(t, "key-schedule.json");
      if (!vs) return;
      const s = await cs();
      let n = 0;
      for (const v of vs) {
        let init = hex(v.initial_init_secret);
        for (const [i, e] of v.epochs.entries()) {
          const gc = encodeGroupContext({
            version: 1,
            cipherSuite: 1,
            groupId: hex(v.group_id),
            epoch: BigInt(i),
            treeHash: hex(e.tree_hash!),
            confirmedTranscriptHash: hex(e.confirmed_transcript_hash!),
            extensions: [],
          });
          assert.deepEqual(gc, hex(e.group_context!));
          const k = await epochSecrets(s, init, hex(e.commit_secret!), hex(e.psk_secret!), gc);
          const fields: [keyof typeof k, string][] = [
            ["joinerSecret", "joiner_secret"],
            ["welcomeSecret", "welcome_secret"],
            ["initSecret", "init_secret"],
            ["senderDataSecret", "sender_data_secret"],
            ["encryptionSecret", "encryption_secret"],
            ["exporterSecret", "exporter_secret"],
            ["epochAuthenticator", "epoch_authenticator"],
            ["externalSecret", "external_secret"],
            ["confirmationKey", "confirmation_key"],
            ["membershipKey", "membership_key"],
            ["resumptionPsk", "resumption_psk"],
          ];
          for (const [mine, theirs] of fields)
            assert.deepEqual(k[mine], hex(e[theirs]!), `epoch ${i} ${theirs}`);
          assert.deepEqual(await externalPub(s, k.externalSecret), hex(e.external_pub!));
          const x = e.exporter;
          assert.deepEqual(
            await mlsExporter(s, k.exporterSecret, x.label, hex(x.context), x.length),
            hex(x.secret),
          );
          init = k.initSecret;
          n++;
        }
      }
      t.diagnostic(`${vs.length} cases, ${n} epochs`);
    });

    it("psk_secret", async (t) => {
      type P = { psks: { psk_id: string; psk: string; psk_nonce: string }[]; psk_secret: string };
      const vs = vectors<P>(t, "psk_secret.json");
      if (!vs) return;
      const s = await cs();
      for (const v of vs) {
        const psks = v.psks.map((p) => ({
          id: { type: PskType.external, pskId: hex(p.psk_id), nonce: hex(p.psk_nonce) } as const,
          psk: hex(p.psk),
        }));
        assert.deepEqual(await pskSecret(s, psks), hex(v.psk_secret));
      }
      t.diagnostic(`${vs.length} cases`);
    });

    it("transcript-hashes", async (t) => {
      const vs = vectors<V>(t, "transcript-hashes.json");
      if (!vs) return;
      const s = await cs();
      for (const v of vs) {
        const ac = decodeExact(
          "AuthenticatedContent",
          (r) => {
            const wireFormat = r.u16();
            const content = readFramedContent(r);
            return { wireFormat, content, auth: readAuthData(r, content.contentType) };
          },
          hex(v.authenticated_content!),
        );
        assert.equal(ac.content.contentType, ContentType.commit);
        const confirmed = await confirmedTranscriptHash(
          s,
          hex(v.interim_transcript_hash_before!),
          confirmedTranscriptHashInput(ac),
        );
        assert.deepEqual(confirmed, hex(v.confirmed_transcript_hash_after!));
        assert.deepEqual(
          await confirmationTag(s, hex(v.confirmation_key!), confirmed),
          ac.auth.confirmationTag,
        );
        assert.deepEqual(
          await interimTranscriptHash(s, confirmed, ac.auth.confirmationTag!),
          hex(v.interim_transcript_hash_after!),
        );
      }
      t.diagnostic(`${vs.length} cases`);
    });

    it("message-protection: open theirs, protect ours and open it, signatures and membership tags", async (t) => {
      const vs = vectors<V>(t, "message-protection.json");
      if (!vs) return;
      const s = await cs();
      for (const v of vs) {
        const gc: GroupContext = {
          version: 1,
          cipherSuite: 1,
          groupId: hex(v.group_id!),
          epoch: BigInt(v.epoch!),
          treeHash: hex(v.tree_hash!),
          confirmedTranscriptHash: hex(v.confirmed_transcript_hash!),
          extensions: [],
        };
        const fresh = () => SecretTree.create(s, hex(v.encryption_secret!), 2);
        const check = async (
          field: string,
          expected: (c: import("../src/mls/rfc9420/framing.js").FramedContent) => void,
        ) => {
          // PrivateMessage: theirs.
          const priv = decodeMlsMessage(hex(v[`${field}_priv`]!));
          assert.equal(priv.wireFormat, WireFormat.privateMessage);
          if (priv.wireFormat !== WireFormat.privateMessage) return;
          const opened = await unprotect(s, priv.privateMessage, hex(v.sender_data_secret!), fresh());
          expected(opened.content);
          const ac = { wireFormat: WireFormat.privateMessage, content: opened.content, auth: opened.auth };
          assert.ok(await verifyFramedContent(s, hex(v.signature_pub!), ac, gc), `${field}_priv signature`);
          // Ours: protect with the same keys, open again.
          const mine = await protect(s, {
            content: opened.content,
            auth: opened.auth,
            senderDataSecret: hex(v.sender_data_secret!),
            secretTree: fresh(),
            reuseGuard: Uint8Array.of(1, 2, 3, 4),
            paddingLength: 7,
          });
          const again = await unprotect(s, mine, hex(v.sender_data_secret!), fresh());
          assert.deepEqual(again.content, opened.content);
          // Tampering is a typed error.
          const bad = { ...mine, ciphertext: mine.ciphertext.slice() };
          bad.ciphertext[0]! ^= 1;
          await assert.rejects(unprotect(s, bad, hex(v.sender_data_secret!), fresh()), MlsError);
          if (field === "application") return;
          const pub = decodeMlsMessage(hex(v[`${field}_pub`]!));
          assert.equal(pub.wireFormat, WireFormat.publicMessage);
          if (pub.wireFormat !== WireFormat.publicMessage) return;
          const m = pub.publicMessage;
          expected(m.content);
          assert.equal(m.content.sender.type, SenderType.member);
          const pac = { wireFormat: WireFormat.publicMessage, content: m.content, auth: m.auth };
          assert.ok(await verifyFramedContent(s, hex(v.signature_pub!), pac, gc), `${field}_pub signature`);
          assert.deepEqual(
            await membershipTag(s, hex(v.membership_key!), m.content, m.auth, gc),
            m.membershipTag,
          );
        };
        await check("proposal", (c) => {
          assert.equal(c.contentType, ContentType.proposal);
          if (c.contentType === ContentType.proposal)
            assert.deepEqual(encodeWith(writeProposal, c.proposal), hex(v.proposal!));
        });
        await check("commit", (c) => {
          assert.equal(c.contentType, ContentType.commit);
          if (c.contentType === ContentType.commit)
            assert.deepEqual(encodeWith(writeCommit, c.commit), hex(v.commit!));
        });
        await check("application", (c) => {
          assert.equal(c.contentType, ContentType.application);
          if (c.contentType === ContentType.application)
            assert.deepEqual(c.applicationData, hex(v.application!));
        });
      }
      t.diagnostic(`${vs.length} cases`);
    });

    it("tree-validation: resolutions, every tree hash, parent hashes, leaf signatures", async (t) => {
      type TV = { tree: string; group_id: string; tree_hashes: string[]; resolutions: number[][] };
      const vs = vectors<TV>(t, "tree-validation.json");
      if (!vs) return;
      const s = await cs();
      for (const v of vs) {
        const tree = decodeRatchetTree(hex(v.tree));
        for (let i = 0; i < tree.width; i++) {
          assert.deepEqual(tree.resolution(i), v.resolutions[i], `resolution ${i}`);
          assert.deepEqual(await treeHash(s, tree, i), hex(v.tree_hashes[i]!), `tree hash ${i}`);
        }
        verifyTreeInvariants(tree);
        await verifyParentHashes(s, tree);
        for (const [l, leaf] of tree.nonBlankLeaves()) {
          assert.ok(
            await verifyLeafNodeSignature(s, leaf, { groupId: hex(v.group_id), leafIndex: l }),
            `leaf ${l}`,
          );
        }
      }
      t.diagnostic(`${vs.length} cases`);
    });

    it("tree-operations: add, update, remove applied to the tree", async (t) => {
      const vs = vectors<V>(t, "tree-operations.json");
      if (!vs) return;
      const s = await cs();
      for (const v of vs) {
        const before = decodeRatchetTree(hex(v.tree_before!));
        assert.deepEqual(await rootTreeHash(s, before), hex(v.tree_hash_before!));
        const proposal = decodeExact("Proposal", readProposal, hex(v.proposal!));
        const after = before.fork();
        applyProposalToTree(after, proposal, Number(v.proposal_sender));
        assert.deepEqual(encodeRatchetTree(after), hex(v.tree_after!));
        assert.deepEqual(await rootTreeHash(s, after), hex(v.tree_hash_after!));
        // The fork left the original untouched.
        assert.deepEqual(encodeRatchetTree(before), hex(v.tree_before!));
        assert.deepEqual(await rootTreeHash(s, before), hex(v.tree_hash_before!));
      }
      t.diagnostic(`${vs.length} cases`);
    });
  });
}
