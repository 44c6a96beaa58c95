/**
 * Persisting a member's GroupState (Parley's own format, not an RFC 9420 structure), split the way the
 * MlsEngine seam stores it: an epoch part (GroupContext, ratchet tree in its §12.4.3.3 wire form, our
 * private keys, the epoch secrets of §8, the interim transcript hash, cached proposals and resumption
 * PSKs) that changes once per epoch or proposal, and a ratchet part (the §9 secret tree frontier)
 * that changes with every message. Both are secret: the caller stores them encrypted.
 *
 * Decoding is strict (trailing bytes, unknown versions and bad enums are MlsError "malformed").
 * The current tree is written whole (its leaves' encodings are cached, so that is mostly copying),
 * with its cached parent tree hashes, so a loaded state hashes only the paths a commit changes.
 * Loading decodes the tree lazily: its leaf count is the secret tree's (which must agree), and its
 * nodes are decoded, and checked, when first used.
 */

import { toHex } from "../../encoding/bytes.js";
import { type TlsReader, TlsWriter } from "../tls-codec.js";
import { decodeExact, readBytes, readList, writeList } from "./codec.js";
import { fail } from "./errors.js";
import { readSender, writeSender } from "./framing.js";
import { readGroupContext, writeGroupContext } from "./group-context.js";
import type { ExternalPskLookup, GroupState } from "./group-state.js";
import type { EpochSecrets } from "./key-schedule.js";
import { readProposal, writeProposal } from "./proposals.js";
import { RatchetTree, writeRatchetTree } from "./ratchet-tree.js";
import { type RatchetType, SecretTree, type SecretTreeSnapshot } from "./secret-tree.js";
import type { Suite } from "./suite.js";
import { rememberTree, storedTree, treeKey } from "./tree-cache.js";
import { writeTreeHashes } from "./tree-hash-store.js";
import type { PathKeys } from "./treekem.js";

const FORMAT = 1;
/** 2: the tree's cached parent hashes follow it (tree-hash-store.ts). */
const STATE_FORMAT = 2;
/** 3: the tree is stored apart (tree-pieces.ts) and handed to the decoder. */
const STATE_FORMAT_TREE_APART = 3;

const SECRET_FIELDS: (keyof EpochSecrets)[] = [
  "joinerSecret",
  "welcomeSecret",
  "epochSecret",
  "senderDataSecret",
  "encryptionSecret",
  "exporterSecret",
  "externalSecret",
  "confirmationKey",
  "membershipKey",
  "resumptionPsk",
  "epochAuthenticator",
  "initSecret",
];

export interface EncodedGroupState {
  epochPart: Uint8Array;
  ratchetPart: Uint8Array;
}

/** Bytes to reserve for a state's epoch part: the tree's cached chunks, one stored hash per parent. */
export const epochPartSizeHint = (s: GroupState): number =>
  s.tree.cachedBytes + 20 * s.tree.width + (1 << 16);

export function encodeGroupState(s: GroupState): EncodedGroupState {
  const w = new TlsWriter(epochPartSizeHint(s));
  writeEpochPart(w, s);
  return { epochPart: w.finish(), ratchetPart: encodeSecretTree(s.secretTree.snapshot()) };
}

/**
 * The epoch part, written in place into `w` (a caller that wraps it avoids a copy of the tree).
 * `treeApart`: without the tree, which the caller stores as pieces (tree-pieces.ts).
 */
export function writeEpochPart(w: TlsWriter, s: GroupState, treeApart = false): void {
  w.u16(treeApart ? STATE_FORMAT_TREE_APART : STATE_FORMAT);
  writeGroupContext(w, s.context);
  if (!treeApart) {
    const treeStart = w.length;
    writeRatchetTree(w, s.tree);
    writeTreeHashes(w, s.tree);
    // The next load of this state finds its tree decoded (tree-cache.ts).
    const stored = w.view().slice(treeStart);
    rememberTree(treeKey(s.context.treeHash, stored), stored, s.tree);
  }
  w.u32(s.myLeaf).vector(s.signKey);
  writeList(w, [...s.keys.entries()], (ww, [x, k]) => {
    ww.u32(x).vector(k.privateKey).vector(k.publicKey);
  });
  for (const f of SECRET_FIELDS) w.vector(s.secrets[f]);
  w.vector(s.interimTranscriptHash);
  writeList(w, [...s.proposals.values()], (ww, p) => {
    ww.vector(p.ref);
    writeSender(ww, p.sender);
    writeProposal(ww, p.proposal);
  });
  writeList(w, [...s.resumptionPsks.entries()], (ww, [epoch, psk]) => {
    ww.u64(epoch).vector(psk);
  });
}

export function encodeSecretTree(t: SecretTreeSnapshot): Uint8Array {
  const w = new TlsWriter().u16(FORMAT).u32(t.leafCount);
  writeList(w, t.nodes, (ww, [x, secret]) => {
    ww.u32(x).vector(secret);
  });
  writeList(w, t.ratchets, (ww, r) => {
    ww.u8(r.type === "handshake" ? 0 : 1)
      .u32(r.leaf)
      .u32(r.generation)
      .vector(r.secret);
    writeList(ww, r.skipped, (www, [g, k]) => {
      www.u32(g).vector(k.key).vector(k.nonce);
    });
  });
  return w.finish();
}

export function readSecretTree(r: TlsReader): SecretTreeSnapshot {
  if (r.u16() !== FORMAT) fail("malformed", "unknown secret tree format");
  const leafCount = r.u32();
  const nodes = readList(r, (rr): [number, Uint8Array] => [rr.u32(), readBytes(rr)]);
  const ratchets = readList(r, (rr) => {
    const t = rr.u8();
    if (t > 1) fail("malformed", `ratchet type ${t}`);
    const type: RatchetType = t === 0 ? "handshake" : "application";
    return {
      type,
      leaf: rr.u32(),
      generation: rr.u32(),
      secret: readBytes(rr),
      skipped: readList(rr, (r3): [number, { key: Uint8Array; nonce: Uint8Array }] => [
        r3.u32(),
        { key: readBytes(r3), nonce: readBytes(r3) },
      ]),
    };
  });
  return { leafCount, nodes, ratchets };
}

/**
 * `treeApart`: the tree of a state whose epoch part was written without it (format 3), given the
 * GroupContext's tree hash (tree-pieces.ts checks its pieces make that tree); lazy, like the inline one.
 */
export function decodeGroupState(
  suite: Suite,
  encoded: EncodedGroupState,
  externalPsks: ExternalPskLookup = () => undefined,
  treeApart?: (treeHash: Uint8Array) => RatchetTree,
): GroupState {
  const snapshot = decodeExact("secret tree", readSecretTree, encoded.ratchetPart);
  return decodeExact(
    "group state",
    (r) => {
      const format = r.u16();
      if (format !== STATE_FORMAT && format !== STATE_FORMAT_TREE_APART)
        fail("malformed", "unknown group state format");
      const context = readGroupContext(r);
      let decodeTree: () => RatchetTree;
      if (format === STATE_FORMAT_TREE_APART) {
        if (treeApart === undefined)
          fail("malformed", "the group state's tree is stored apart and was not given");
        const apart = treeApart(context.treeHash);
        decodeTree = () => apart.fork();
      } else {
        // The tree and its hashes are decoded on first use (ratchet-tree.ts, lazy): sending an
        // application message uses no node. Their bytes are checked then, our leaf with them.
        const treeStart = r.position;
        r.vector();
        r.vector();
        const stored = r.copy(treeStart, r.position);
        decodeTree = () => storedTree(context.treeHash, stored);
      }
      const myLeaf = r.u32();
      const tree = RatchetTree.lazy(snapshot.leafCount, () => {
        const t = decodeTree();
        if (t.leaf(myLeaf) === undefined) fail("malformed", "our leaf is blank in the stored tree");
        return t;
      });
      const signKey = readBytes(r);
      const keys: PathKeys = new Map(
        readList(r, (rr) => [rr.u32(), { privateKey: readBytes(rr), publicKey: readBytes(rr) }] as const),
      );
      const secrets = {} as EpochSecrets;
      for (const f of SECRET_FIELDS) secrets[f] = readBytes(r);
      const interimTranscriptHash = readBytes(r);
      const proposals = new Map(
        readList(r, (rr) => {
          const ref = readBytes(rr);
          const sender = readSender(rr);
          return [toHex(ref), { ref, sender, proposal: readProposal(rr) }] as const;
        }),
      );
      const resumptionPsks = new Map(readList(r, (rr) => [rr.u64(), readBytes(rr)] as const));
      if (myLeaf >= tree.leafCount) fail("malformed", "our leaf is outside the stored tree");
      return {
        suite,
        context,
        tree,
        myLeaf,
        signKey,
        keys,
        secrets,
        secretTree: SecretTree.restore(suite, snapshot),
        interimTranscriptHash,
        proposals,
        resumptionPsks,
        externalPsks,
      };
    },
    encoded.epochPart,
  );
}
