/**
 * Parley's RFC 9420 engine end to end, members all on the new engine: create (§11), add with a path
 * (forced) and Welcome (§12.4.1, §12.4.3), add-only commits without a path (§12.4), messages both ways, one commit that removes, adds and renames
 * (GroupContextExtensions) with a path encrypted under the new context, §12.4's path rule enforced on
 * receipt, KeyPackages with GREASE consistent with capabilities, and malformed input rejected with a
 * typed error and no state change.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { nodeCryptoProvider } from "../src/crypto/node-provider.js";
import { utf8 } from "../src/encoding/bytes.js";
import { PARLEY_METADATA_EXTENSION } from "../src/mls/group-extensions.js";
import { createApplicationMessage } from "../src/mls/rfc9420/application-message.js";
import type { ProposalOrRef } from "../src/mls/rfc9420/commit.js";
import { createCommit } from "../src/mls/rfc9420/create-commit.js";
import { createGroup } from "../src/mls/rfc9420/create-group.js";
import { CredentialType } from "../src/mls/rfc9420/credential.js";
import { MlsError } from "../src/mls/rfc9420/errors.js";
import { isGrease } from "../src/mls/rfc9420/extensions.js";
import {
  ContentType,
  type FramedContent,
  membershipTag,
  SenderType,
  signFramedContent,
  WireFormat,
} from "../src/mls/rfc9420/framing.js";
import type { GroupState } from "../src/mls/rfc9420/group-state.js";
import { decodeGroupState, encodeGroupState } from "../src/mls/rfc9420/group-state-codec.js";
import { joinFromWelcome } from "../src/mls/rfc9420/join-welcome.js";
import { greaseConsistent, validateKeyPackage } from "../src/mls/rfc9420/key-package.js";
import { decodeMlsMessage, encodeMlsMessage, type MlsMessage } from "../src/mls/rfc9420/mls-message.js";
import { newKeyPackage } from "../src/mls/rfc9420/new-key-package.js";
import { verifyParentHashes } from "../src/mls/rfc9420/parent-hash.js";
import { processMessage } from "../src/mls/rfc9420/process-message.js";
import { ProposalType } from "../src/mls/rfc9420/proposals.js";
import type { Suite } from "../src/mls/rfc9420/suite.js";
import { rootTreeHash } from "../src/mls/rfc9420/tree-hash.js";

const suiteP = (): Promise<Suite> =>
  nodeCryptoProvider.mlsCiphersuite("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519");

async function client(s: Suite, name: string) {
  const { signKey, publicKey } = await s.signature.keygen();
  const kp = await newKeyPackage(s, {
    credential: { type: CredentialType.basic, identity: utf8(name) },
    signatureKey: publicKey,
    signKey,
  });
  return { name, signKey, ...kp };
}

async function join(
  s: Suite,
  c: Awaited<ReturnType<typeof client>>,
  welcome: MlsMessage | undefined,
): Promise<GroupState> {
  assert.ok(welcome?.wireFormat === WireFormat.welcome);
  return joinFromWelcome(s, {
    welcome: welcome.welcome,
    keyPackage: c.keyPackage,
    initPrivateKey: c.initPrivateKey,
    encryptionPrivateKey: c.encryptionPrivateKey,
    signPrivateKey: c.signKey,
  });
}

/** Every message crosses the wire as bytes. */
const wire = (m: MlsMessage): MlsMessage => decodeMlsMessage(encodeMlsMessage(m));

async function receive(state: GroupState, m: MlsMessage) {
  return processMessage(state, wire(m));
}

function sameEpoch(states: GroupState[]): void {
  for (const s of states.slice(1)) {
    assert.equal(s.context.epoch, states[0]!.context.epoch);
    assert.deepEqual(s.secrets.epochAuthenticator, states[0]!.secrets.epochAuthenticator);
  }
}

describe("RFC 9420 engine: groups", () => {
  it("create, add with a path, message both ways, then remove + add + rename in one commit", async () => {
    const s = await suiteP();
    const [alice, bob, carol, dave] = await Promise.all(
      ["alice", "bob", "carol", "dave"].map((n) => client(s, n)),
    );
    let a = await createGroup(s, {
      groupId: utf8("group-1"),
      leaf: alice!.keyPackage.leafNode,
      encryptionPrivateKey: alice!.encryptionPrivateKey,
      signKey: alice!.signKey,
      extensions: [{ type: PARLEY_METADATA_EXTENSION, data: utf8("name: one") }],
    });
    const c1 = await createCommit(a, { add: [bob!.keyPackage, carol!.keyPackage], forcePath: true });
    assert.ok(c1.commit.wireFormat === WireFormat.privateMessage);
    a = c1.state;
    let b = await join(s, bob!, c1.welcome && wire(c1.welcome));
    let c = await join(s, carol!, c1.welcome && wire(c1.welcome));
    sameEpoch([a, b, c]);
    assert.equal(a.context.epoch, 1n);
    // The joiners got the path secret: they hold the root's private key.
    assert.ok(b.keys.has(a.tree.rootIndex) && c.keys.has(a.tree.rootIndex));

    const m1 = await createApplicationMessage(a, utf8("hello"));
    a = m1.state;
    for (const who of ["b", "c"] as const) {
      const r = await receive(who === "b" ? b : c, m1.message);
      assert.ok(r.kind === "application");
      assert.deepEqual(r.data, utf8("hello"));
      assert.equal(r.sender, 0);
      if (who === "b") b = r.state;
      else c = r.state;
    }
    const m2 = await createApplicationMessage(b, utf8("hi alice"));
    b = m2.state;
    const r2 = await receive(a, m2.message);
    assert.ok(r2.kind === "application" && r2.sender === 1);
    a = r2.state;

    // Bob: remove Carol, add Dave, rename — one commit, with a path (public this time).
    const c2 = await createCommit(b, {
      remove: [2],
      add: [dave!.keyPackage],
      extensions: [{ type: PARLEY_METADATA_EXTENSION, data: utf8("name: two") }],
      wireFormat: "public",
    });
    b = c2.state;
    const ra = await receive(a, c2.commit);
    assert.ok(ra.kind === "commit" && !ra.removedUs);
    a = ra.state;
    const rc = await receive(c, c2.commit);
    assert.ok(rc.kind === "commit" && rc.removedUs);
    const d = await join(s, dave!, c2.welcome && wire(c2.welcome));
    sameEpoch([a, b, d]);
    assert.deepEqual(a.context.extensions[0]!.data, utf8("name: two"));
    assert.equal(d.myLeaf, 2);
    await verifyParentHashes(s, a.tree);
    assert.deepEqual(await rootTreeHash(s, a.tree), a.context.treeHash);

    // Dave writes, both read; then an empty (update) commit from Dave.
    const m3 = await createApplicationMessage(d, utf8("dave here"));
    for (const st of [a, b]) {
      const r = await receive(st, m3.message);
      assert.ok(r.kind === "application" && r.sender === 2);
    }
    const c3 = await createCommit(m3.state, {});
    const a3 = await receive(a, c3.commit);
    const b3 = await receive(b, c3.commit);
    assert.ok(a3.kind === "commit" && b3.kind === "commit");
    sameEpoch([c3.state, a3.state, b3.state]);
  });

  it("§12.4: a commit of Adds only has no path; joiners and members agree, the next path covers all", async () => {
    const s = await suiteP();
    const [alice, bob, carol, dave, erin] = await Promise.all(
      ["alice", "bob", "carol", "dave", "erin"].map((n) => client(s, n)),
    );
    const a0 = await createGroup(s, {
      groupId: utf8("group-adds"),
      leaf: alice!.keyPackage.leafNode,
      encryptionPrivateKey: alice!.encryptionPrivateKey,
      signKey: alice!.signKey,
    });
    const c1 = await createCommit(a0, { add: [bob!.keyPackage, carol!.keyPackage], wireFormat: "public" });
    assert.ok(c1.commit.wireFormat === WireFormat.publicMessage);
    assert.ok(c1.commit.publicMessage.content.contentType === ContentType.commit);
    assert.equal(
      c1.commit.publicMessage.content.commit.path,
      undefined,
      "no UpdatePath in an add-only commit",
    );
    const b1 = await join(s, bob!, wire(c1.welcome!));
    const c = await join(s, carol!, wire(c1.welcome!));
    // No path secret in the Welcome: a joiner holds only its leaf key.
    assert.deepEqual([...b1.keys.keys()], [2 * b1.myLeaf]);
    // Alice's update path sets her direct path (nodes 1 and 3, the root), so Dave's leaf 3 below
    // lands under a non-blank root and must be listed as unmerged there (§12.1.1).
    const u = await createCommit(c1.state, {});
    const rb = await receive(b1, u.commit);
    const rc = await receive(c, u.commit);
    assert.ok(rb.kind === "commit" && rc.kind === "commit");
    assert.equal(u.state.tree.rootIndex, 3);
    assert.ok(u.state.tree.node(3) !== undefined, "the root is set by the update path");

    const c2 = await createCommit(u.state, { add: [dave!.keyPackage], wireFormat: "public" });
    assert.ok(c2.commit.wireFormat === WireFormat.publicMessage);
    const content = c2.commit.publicMessage.content;
    assert.ok(content.contentType === ContentType.commit);
    assert.equal(content.commit.path, undefined, "no UpdatePath in an add-only commit");
    // The committer's keys did not change; the new leaf is unmerged at the root.
    assert.deepEqual(c2.state.tree.leaf(0)!.encryptionKey, u.state.tree.leaf(0)!.encryptionKey);
    const root = c2.state.tree.node(3);
    assert.ok(root?.kind === "parent");
    assert.deepEqual(root.parent.unmergedLeaves, [3]);
    const rb2 = await receive(rb.state, c2.commit);
    const rc2 = await receive(rc.state, c2.commit);
    assert.ok(rb2.kind === "commit" && rc2.kind === "commit");
    const d = await join(s, dave!, wire(c2.welcome!));
    sameEpoch([c2.state, rb2.state, rc2.state, d]);
    await verifyParentHashes(s, d.tree);
    assert.deepEqual(await rootTreeHash(s, d.tree), d.context.treeHash);

    // Carol's update path reaches every member, the unmerged Dave included (by his leaf key).
    const c3 = await createCommit(rc2.state, {});
    for (const st of [c2.state, rb2.state, d]) {
      const r = await receive(st, c3.commit);
      assert.ok(r.kind === "commit");
      sameEpoch([c3.state, r.state]);
    }
    // forcePath: a path with the adds, which joiners get the secret of through the Welcome.
    const c4 = await createCommit(c3.state, {
      add: [erin!.keyPackage],
      forcePath: true,
      wireFormat: "public",
    });
    assert.ok(c4.commit.wireFormat === WireFormat.publicMessage);
    assert.ok(c4.commit.publicMessage.content.contentType === ContentType.commit);
    assert.ok(c4.commit.publicMessage.content.commit.path !== undefined);
    const e = await join(s, erin!, wire(c4.welcome!));
    assert.ok(e.keys.has(e.tree.rootIndex));
    sameEpoch([c4.state, e]);
  });

  it("§12.4: a commit that removes without a path is rejected with path-required, state unchanged", async () => {
    const s = await suiteP();
    const [alice, bob, carol] = await Promise.all(["alice", "bob", "carol"].map((n) => client(s, n)));
    const a0 = await createGroup(s, {
      groupId: utf8("group-2"),
      leaf: alice!.keyPackage.leafNode,
      encryptionPrivateKey: alice!.encryptionPrivateKey,
      signKey: alice!.signKey,
    });
    const c1 = await createCommit(a0, { add: [bob!.keyPackage, carol!.keyPackage] });
    const a = c1.state;
    const b = await join(s, bob!, c1.welcome);
    const cases: [ProposalOrRef[], string][] = [
      [[{ kind: "proposal", proposal: { type: ProposalType.remove, removed: 2 } }], "a Remove"],
      [
        [{ kind: "proposal", proposal: { type: ProposalType.groupContextExtensions, extensions: [] } }],
        "a GroupContextExtensions",
      ],
      [[], "an empty commit"],
    ];
    for (const [proposals, what] of cases) {
      const content: FramedContent = {
        groupId: b.context.groupId,
        epoch: b.context.epoch,
        sender: { type: SenderType.member, leafIndex: b.myLeaf },
        authenticatedData: new Uint8Array(0),
        contentType: ContentType.commit,
        commit: { proposals },
      };
      const signature = await signFramedContent(s, b.signKey, WireFormat.publicMessage, content, b.context);
      const auth = { signature, confirmationTag: new Uint8Array(32) };
      const tag = await membershipTag(s, b.secrets.membershipKey, content, auth, b.context);
      const msg: MlsMessage = {
        wireFormat: WireFormat.publicMessage,
        publicMessage: { content, auth, membershipTag: tag },
      };
      await assert.rejects(
        receive(a, msg),
        (e: unknown) => e instanceof MlsError && e.code === "path-required",
        what,
      );
    }
    // Nothing moved: a real commit from Bob still applies.
    const ok = await createCommit(b, { remove: [2] });
    const r = await receive(a, ok.commit);
    assert.ok(r.kind === "commit");
    sameEpoch([r.state, ok.state]);
  });

  it("malformed, replayed, wrong-epoch and tampered input: typed errors, no state change", async () => {
    const s = await suiteP();
    const [alice, bob] = await Promise.all(["alice", "bob"].map((n) => client(s, n)));
    const a0 = await createGroup(s, {
      groupId: utf8("group-3"),
      leaf: alice!.keyPackage.leafNode,
      encryptionPrivateKey: alice!.encryptionPrivateKey,
      signKey: alice!.signKey,
    });
    const c1 = await createCommit(a0, { add: [bob!.keyPackage] });
    const a = c1.state;
    const b = await join(s, bob!, c1.welcome);
    const m = await createApplicationMessage(a, utf8("once"));
    const bytes = encodeMlsMessage(m.message);
    const code = (e: unknown) => (e instanceof MlsError ? e.code : `not an MlsError: ${String(e)}`);
    // Truncated and extended encodings.
    for (let cut = 0; cut < bytes.length; cut += 7) {
      assert.throws(
        () => decodeMlsMessage(bytes.subarray(0, cut)),
        (e: unknown) => code(e) === "malformed",
      );
    }
    assert.throws(
      () => decodeMlsMessage(new Uint8Array([...bytes, 0])),
      (e: unknown) => code(e) === "malformed",
    );
    // Every single-bit flip: either a decode error or a typed processing error, never a crash.
    for (let i = 0; i < bytes.length; i++) {
      const t = bytes.slice();
      t[i]! ^= 0x10;
      try {
        await processMessage(b, decodeMlsMessage(t));
        assert.fail(`flip at ${i} accepted`);
      } catch (e) {
        assert.ok(e instanceof MlsError, `flip at ${i}: ${String(e)}`);
      }
    }
    // The untouched message still opens (no flip consumed its key), once.
    const r = await processMessage(b, decodeMlsMessage(bytes));
    assert.ok(r.kind === "application");
    await assert.rejects(
      processMessage(r.state, decodeMlsMessage(bytes)),
      (e: unknown) => code(e) === "generation-consumed",
    );
    // An old-epoch message after a commit.
    const c2 = await createCommit(a, {});
    const b2 = await processMessage(r.state, decodeMlsMessage(encodeMlsMessage(c2.commit)));
    assert.ok(b2.kind === "commit");
    const late = await createApplicationMessage(a, utf8("late"));
    await assert.rejects(processMessage(b2.state, late.message), (e: unknown) => code(e) === "wrong-epoch");
    // A commit whose confirmation tag or signature is off (public, so the bytes are reachable).
    const c3 = await createCommit(c2.state, { wireFormat: "public" });
    assert.ok(c3.commit.wireFormat === WireFormat.publicMessage);
    const pm = c3.commit.publicMessage;
    const badTag = {
      ...c3.commit,
      publicMessage: { ...pm, auth: { ...pm.auth, confirmationTag: new Uint8Array(32) } },
    };
    await assert.rejects(processMessage(b2.state, badTag), (e: unknown) => code(e) === "bad-mac");
    const sig = pm.auth.signature.slice();
    sig[0]! ^= 1;
    const badSig = { ...c3.commit, publicMessage: { ...pm, auth: { ...pm.auth, signature: sig } } };
    await assert.rejects(processMessage(b2.state, badSig), (e: unknown) => e instanceof MlsError);
    const ok = await processMessage(b2.state, c3.commit);
    assert.ok(ok.kind === "commit");
    sameEpoch([ok.state, c3.state]);
  });

  it("a state survives persistence: encode, decode, keep going; a damaged state is a typed error", async () => {
    const s = await suiteP();
    const [alice, bob] = await Promise.all(["alice", "bob"].map((n) => client(s, n)));
    const a0 = await createGroup(s, {
      groupId: utf8("group-4"),
      leaf: alice!.keyPackage.leafNode,
      encryptionPrivateKey: alice!.encryptionPrivateKey,
      signKey: alice!.signKey,
    });
    const c1 = await createCommit(a0, { add: [bob!.keyPackage] });
    let a = c1.state;
    let b = await join(s, bob!, c1.welcome);
    const m1 = await createApplicationMessage(a, utf8("one"));
    a = m1.state;
    const m2 = await createApplicationMessage(a, utf8("two"));
    a = m2.state;
    const r1 = await processMessage(b, m1.message);
    assert.ok(r1.kind === "application");
    b = r1.state;
    // Bob saves with "two" pending, restores, reads it, but not "one" again.
    const saved = encodeGroupState(b);
    const restored = decodeGroupState(s, saved);
    assert.deepEqual(encodeGroupState(restored), saved);
    const r2 = await processMessage(restored, m2.message);
    assert.ok(r2.kind === "application" && r2.data.length === 3);
    await assert.rejects(
      processMessage(r2.state, m1.message),
      (e: unknown) => e instanceof MlsError && e.code === "generation-consumed",
    );
    // Alice restored too, then a commit both ways.
    a = decodeGroupState(s, encodeGroupState(a));
    const c2 = await createCommit(r2.state, { wireFormat: "public" });
    const ra = await processMessage(a, c2.commit);
    assert.ok(ra.kind === "commit");
    sameEpoch([ra.state, c2.state]);
    for (const part of ["epochPart", "ratchetPart"] as const) {
      const bad = { ...saved, [part]: saved[part].subarray(0, saved[part].length - 1) };
      assert.throws(
        () => decodeGroupState(s, bad),
        (e: unknown) => e instanceof MlsError && e.code === "malformed",
      );
    }
  });

  it("KeyPackages: suite 1 and basic credentials only, GREASE listed in capabilities, valid", async () => {
    const s = await suiteP();
    for (let i = 0; i < 40; i++) {
      const { keyPackage: kp } = await client(s, `c${i}`);
      assert.ok(greaseConsistent(kp), "every GREASE extension is listed in capabilities");
      assert.deepEqual(kp.leafNode.capabilities.cipherSuites, [1]);
      assert.deepEqual(
        kp.leafNode.capabilities.credentials.filter((x) => !isGrease(x)),
        [1],
      );
      assert.deepEqual(
        kp.leafNode.capabilities.extensions.filter((x) => !isGrease(x)),
        [PARLEY_METADATA_EXTENSION],
      );
      assert.ok(
        kp.leafNode.extensions.every(
          (e) => isGrease(e.type) && kp.leafNode.capabilities.extensions.includes(e.type),
        ),
      );
      await validateKeyPackage(s, kp, BigInt(Math.floor(Date.now() / 1000)));
    }
  });
});
