/**
 * What a GroupState of Rfc9420Engine holds, and how it is persisted.
 *
 *  - the member's current RFC 9420 state (rfc9420/group-state.ts);
 *  - the receiving side of up to PAST_EPOCHS earlier epochs (GroupContext, ratchet tree, sender data
 *    secret, secret tree), so application messages sent before a commit still open after it
 *    (RFC 9420 §15.2 leaves the window to the application; ts-mls keeps 4, so do we). Nothing else
 *    of a past epoch is kept: its init, epoch, exporter and membership secrets are zeroed;
 *  - whether a commit removed us (then the state can only be read, never used).
 *
 * Persistence splits as the seam asks: the epoch part (rfc9420/group-state-codec.ts's epoch part plus
 * the past epochs' contexts, trees — each as its differences from the next newer tree, a commit's
 * worth of nodes — and sender data secrets) changes once per epoch; the ratchet part
 * (every secret tree) with each message. Both carry the epoch, so parts of different epochs do not mix.
 * The current tree is stored apart, as pieces (rfc9420/tree-pieces.ts: a whole tree, then the changes
 * of each save): a commit writes the nodes it changed, not the tree. The epoch part says how many
 * pieces make the tree; a state remembers the tree its store holds (`StoredTree`), which the pieces of
 * its next save are relative to.
 */
import { equalBytes } from "../../encoding/bytes.js";
import type { GroupState, TreePieces } from "../engine.js";
import { MlsProcessingError } from "../engine.js";
import { decodeExact, readBytes, readList, writeList } from "../rfc9420/codec.js";
import { type GroupContext, readGroupContext, writeGroupContext } from "../rfc9420/group-context.js";
import type { GroupState as RfcState } from "../rfc9420/group-state.js";
import {
  decodeGroupState,
  encodeSecretTree,
  readSecretTree,
  writeEpochPart,
} from "../rfc9420/group-state-codec.js";
import type { RatchetTree } from "../rfc9420/ratchet-tree.js";
import { SecretTree } from "../rfc9420/secret-tree.js";
import type { Suite } from "../rfc9420/suite.js";
import { readTreeDiff, writeTreeDiff } from "../rfc9420/tree-diff.js";
import { encodeChangesPiece, encodeWholePiece, treeFromPieces } from "../rfc9420/tree-pieces.js";
import { TlsReader, TlsWriter } from "../tls-codec.js";

/** How many earlier epochs' receiving keys are kept for late application messages. */
export const PAST_EPOCHS = 4;

/** The receiving side of an earlier epoch. */
export interface PastEpoch {
  context: GroupContext;
  tree: RatchetTree;
  senderDataSecret: Uint8Array;
  secretTree: SecretTree;
}

/**
 * The current tree as the store holds it (the pieces a load read, or a save known to have landed):
 * the next save's pieces are these and the changes since `tree`. The bytes are kept (a serialized
 * state is complete, ../engine.ts TreePieces): about the size of the tree's wire form.
 */
export interface StoredTree {
  pieces: Uint8Array[];
  tree: RatchetTree;
  treeHash: Uint8Array;
}

export interface Inner {
  g: RfcState;
  /** Newest first. */
  past: readonly PastEpoch[];
  /** A received commit removed us: the state is the last one we had, kept for reading only. */
  removed: boolean;
  /** Undefined: the store holds no tree pieces of this state's lineage (new, or stored whole, format 2). */
  stored?: StoredTree;
}

const INNER = Symbol("parley.rfc9420State");
const spent = new WeakSet<GroupState>();
/** 2: past epochs' trees stored as differences from the next newer tree (rfc9420/tree-diff.ts). */
const FORMAT_TREE_INLINE = 2;
/** 3: the current tree stored apart, as pieces (rfc9420/tree-pieces.ts); the epoch part counts them. */
const FORMAT = 3;
/** The ratchet part's format (unchanged by 3). */
const RATCHET_FORMAT = 2;

export function wrap(inner: Inner): GroupState {
  const state = { groupId: inner.g.context.groupId.slice(), epoch: inner.g.context.epoch };
  // Non-enumerable: keeps secrets out of console.log / JSON of a state.
  Object.defineProperty(state, INNER, { value: inner, enumerable: false });
  return Object.freeze(state);
}

export function unwrap(state: GroupState, publicOnly = false): Inner {
  const inner = (state as { [INNER]?: Inner })[INNER];
  if (inner === undefined) throw new MlsProcessingError("not a group state of Rfc9420Engine");
  if (!publicOnly && spent.has(state)) {
    throw new MlsProcessingError(
      "this group state was already used by an operation and its secrets are erased; use the state it returned",
    );
  }
  return inner;
}

/** Whether an operation has used `state` (spend). */
export const isSpent = (state: GroupState): boolean => spent.has(state);

/** The state a commit leads to: `next` current, `before`'s epoch joins the past ones. */
export function advance(before: Inner, next: RfcState): Inner {
  const g = before.g;
  const past: PastEpoch = {
    context: g.context,
    tree: g.tree,
    senderDataSecret: g.secrets.senderDataSecret,
    secretTree: g.secretTree,
  };
  return {
    g: next,
    past: [past, ...before.past].slice(0, PAST_EPOCHS),
    removed: false,
    ...(before.stored ? { stored: before.stored } : {}),
  };
}

/**
 * Every secret buffer an Inner holds, by identity; without those of the secret trees in `skip`.
 * (Per message: keep it cheap — no snapshot of the secret trees.)
 */
function secretsOf(inner: Inner, skip?: ReadonlySet<SecretTree>): Set<Uint8Array> {
  const out = new Set<Uint8Array>();
  const add = (b: Uint8Array) => {
    out.add(b);
  };
  const { g } = inner;
  for (const v of Object.values(g.secrets)) out.add(v);
  for (const k of g.keys.values()) out.add(k.privateKey);
  out.add(g.signKey);
  for (const v of g.resumptionPsks.values()) out.add(v);
  if (!skip?.has(g.secretTree)) g.secretTree.forEachSecret(add);
  for (const p of inner.past) {
    out.add(p.senderDataSecret);
    if (!skip?.has(p.secretTree)) p.secretTree.forEachSecret(add);
  }
  return out;
}

/** Zeroes every secret an Inner holds (a copy about to be dropped). */
export function zeroAll(inner: Inner): void {
  for (const secret of secretsOf(inner)) secret.fill(0);
}

/**
 * Forward secrecy: zeroes every secret of `state` that `next` no longer holds (used ratchet keys,
 * the old epoch's init and epoch secrets, replaced path keys, epochs that fell out of the window)
 * and marks `state` spent. Call only once the operation has succeeded and its result is built.
 * A secret tree `next` still holds (the same object) keeps all its secrets: not enumerated.
 */
export function spend(state: GroupState, next: Inner): void {
  const held = secretsOf(next);
  const kept = new Set([next.g.secretTree, ...next.past.map((p) => p.secretTree)]);
  for (const secret of secretsOf(unwrap(state, true), kept)) if (!held.has(secret)) secret.fill(0);
  spent.add(state);
}

/** The tree of the epoch after past epoch `p` (the current one for the newest). */
function newer(inner: Inner, p: PastEpoch): RatchetTree {
  const k = inner.past.indexOf(p);
  return k === 0 ? inner.g.tree : inner.past[k - 1]!.tree;
}

/**
 * What the epoch part is made of, by identity: states are values (an application message replaces
 * only secret trees, ../rfc9420/group-state.ts), so the same objects mean the same epoch part — a
 * sender or receiver of an application message persists the ratchet part alone, and the epoch part
 * (the whole tree: megabytes at 10,000 members) is not encoded again. (Stored tree hashes may grow in
 * the meantime; the bytes cached hold fewer of them and decode to the same state.)
 */
function epochFingerprint(inner: Inner): unknown[] {
  const { g } = inner;
  const parts: unknown[] = [
    inner.removed,
    g.context,
    g.tree,
    g.myLeaf,
    g.signKey,
    g.keys,
    g.secrets,
    g.interimTranscriptHash,
    g.proposals,
    g.resumptionPsks,
  ];
  for (const p of inner.past) parts.push(p.context, p.tree, p.senderDataSecret);
  return parts;
}

/** Epoch parts already encoded, by the epoch's secrets object (one per epoch of a state lineage). */
const epochParts = new WeakMap<object, { parts: unknown[]; bytes: Uint8Array }>();

/** `useCache` false: encode anew (tests compare that with what the cache hands out). */
export function encodeEpochPart(
  inner: Inner,
  useCache = true,
  tree: TreePieces = encodeTreePieces(inner),
): Uint8Array {
  const parts = epochFingerprint(inner);
  parts.push(tree.pieces.length);
  const cached = useCache ? epochParts.get(inner.g.secrets) : undefined;
  if (
    cached !== undefined &&
    cached.parts.length === parts.length &&
    cached.parts.every((p, i) => p === parts[i])
  )
    return cached.bytes;
  const e = new TlsWriter(4096 + 64 * inner.g.keys.size)
    .u16(FORMAT)
    .u64(inner.g.context.epoch)
    .u8(inner.removed ? 1 : 0)
    .u32(tree.pieces.length);
  e.vectorOf((w) => writeEpochPart(w, inner.g, true));
  writeList(e, inner.past, (w, p) => {
    writeGroupContext(w, p.context);
    writeTreeDiff(w, p.tree, newer(inner, p));
    w.vector(p.senderDataSecret);
  });
  const bytes = e.finish();
  epochParts.set(inner.g.secrets, { parts, bytes });
  return bytes;
}

/**
 * A state just loaded from `epochPart`: those bytes are its epoch part (a copy is kept — the caller's
 * buffer stays the caller's), so a member that loads a state, sends or reads a message and saves
 * again encodes nothing of its epoch again. (A state stored in format 2 is written anew, in 3.)
 */
export function rememberEpochPart(inner: Inner, epochPart: Uint8Array): void {
  if (inner.stored === undefined || inner.stored.tree !== inner.g.tree) return;
  const parts = epochFingerprint(inner);
  parts.push(inner.stored.pieces.length);
  epochParts.set(inner.g.secrets, { parts, bytes: epochPart.slice() });
}

/**
 * When the change pieces after the whole tree outgrow this share of it (or number MAX_PIECES), a
 * save writes the whole tree again: a load reads the whole piece and every change piece, so this
 * bounds what a load reads to 1.5 trees, and the whole tree is written once per half a tree's worth
 * of changes — the bytes written per commit stay proportional to what it changed.
 */
const CHANGES_SHARE = 0.5;
const MAX_PIECES = 64;

/** Tree pieces already encoded, by the tree they encode (a state saved again after a message). */
const treePieces = new WeakMap<RatchetTree, { stored: StoredTree | undefined; pieces: TreePieces }>();

/** The tree pieces that store `inner`'s tree: what its store holds, and the changes since. */
export function encodeTreePieces(inner: Inner): TreePieces {
  const { g, stored } = inner;
  if (stored !== undefined && equalBytes(stored.treeHash, g.context.treeHash))
    return { pieces: stored.pieces, held: stored.pieces.length };
  const cached = treePieces.get(g.tree);
  if (cached !== undefined && cached.stored === stored) return cached.pieces;
  let out: TreePieces | undefined;
  if (stored !== undefined && stored.pieces.length < MAX_PIECES) {
    const piece = encodeChangesPiece(g.tree, stored.tree, stored.treeHash, g.context.treeHash);
    let changes = piece.length;
    for (let i = 1; i < stored.pieces.length; i++) changes += stored.pieces[i]!.length;
    if (changes <= stored.pieces[0]!.length * CHANGES_SHARE)
      out = { pieces: [...stored.pieces, piece], held: stored.pieces.length };
  }
  out ??= { pieces: [encodeWholePiece(g.tree, g.context.treeHash)], held: 0 };
  treePieces.set(g.tree, { stored, pieces: out });
  return out;
}

/**
 * The store now holds `inner` as `saved` (a serialize of it) made it: the next save's pieces are
 * relative to this tree. Until a save is known to have landed, each save is relative to the tree the
 * last landed one (or the load) left — a save that never landed is written again by the next, larger.
 */
export function markStored(inner: Inner, saved: TreePieces): void {
  if (saved.pieces.length === 0) return;
  inner.stored = { pieces: saved.pieces, tree: inner.g.tree, treeHash: inner.g.context.treeHash };
}

export function encodeRatchetPart(inner: Inner): Uint8Array {
  const r = new TlsWriter()
    .u16(RATCHET_FORMAT)
    .u64(inner.g.context.epoch)
    .vector(encodeSecretTree(inner.g.secretTree.snapshot()));
  writeList(r, inner.past, (w, p) => {
    w.vector(encodeSecretTree(p.secretTree.snapshot()));
  });
  return r.finish();
}

export function serializeInner(inner: Inner): {
  epochPart: Uint8Array;
  ratchetPart: Uint8Array;
  tree: TreePieces;
} {
  const tree = encodeTreePieces(inner);
  return { epochPart: encodeEpochPart(inner, true, tree), ratchetPart: encodeRatchetPart(inner), tree };
}

export function deserializeInner(
  suite: Suite,
  epoch: bigint,
  parts: { epochPart: Uint8Array; ratchetPart: Uint8Array; tree?: TreePieces },
): Inner {
  const ratchets = decodeExact(
    "ratchet part",
    (r) => {
      if (r.u16() !== RATCHET_FORMAT) throw new Error("unknown ratchet part format");
      if (r.u64() !== epoch) throw new Error("ratchet part of another epoch");
      const current = readBytes(r);
      return { current, past: readList(r, (rr) => readBytes(rr)) };
    },
    parts.ratchetPart,
  );
  return decodeExact(
    "epoch part",
    (r) => {
      const format = r.u16();
      if (format !== FORMAT && format !== FORMAT_TREE_INLINE) throw new Error("unknown epoch part format");
      if (r.u64() !== epoch) throw new Error("epoch part of another epoch");
      const removedFlag = r.u8();
      if (removedFlag > 1) throw new Error("bad flag");
      let stored: StoredTree | undefined;
      let treeApart: ((treeHash: Uint8Array) => RatchetTree) | undefined;
      if (format === FORMAT) {
        const count = r.u32();
        const given = parts.tree;
        if (given === undefined || given.pieces.length < count)
          throw new Error(
            `the tree's pieces are not all there (${count} stored, ${given?.pieces.length ?? 0} given)`,
          );
        const pieces = given.pieces.slice(0, count);
        const held = Math.min(given.held, count);
        treeApart = (treeHash) => {
          const made = treeFromPieces(pieces, treeHash, held);
          if (made.heldTree !== undefined) stored = { pieces: pieces.slice(0, held), ...made.heldTree };
          return made.tree;
        };
      }
      const g = decodeGroupState(
        suite,
        { epochPart: readBytes(r), ratchetPart: ratchets.current },
        undefined,
        treeApart,
      );
      if (g.context.epoch !== epoch) throw new Error("stored state of another epoch");
      // Each past tree is the differences from the next newer one, newest first.
      let newerTree = g.tree;
      const pastRaw = readList(r, (rr) => {
        const context = readGroupContext(rr);
        const tree = readTreeDiff(rr, newerTree);
        newerTree = tree;
        return { context, tree, senderDataSecret: readBytes(rr) };
      });
      if (pastRaw.length !== ratchets.past.length || pastRaw.length > PAST_EPOCHS)
        throw new Error("past epochs disagree");
      const past: PastEpoch[] = pastRaw.map((p, i) => {
        const snapshot = decodeExact("secret tree", readSecretTree, ratchets.past[i]!);
        if (snapshot.leafCount !== p.tree.leafCount) throw new Error("past secret tree disagrees");
        return { ...p, secretTree: SecretTree.restore(suite, snapshot) };
      });
      // When the store holds every piece, the stored tree is the state's own.
      const loaded = stored as StoredTree | undefined;
      if (loaded !== undefined && equalBytes(loaded.treeHash, g.context.treeHash)) loaded.tree = g.tree;
      return { g, past, removed: removedFlag === 1, ...(loaded ? { stored: loaded } : {}) };
    },
    parts.epochPart,
  );
}

/**
 * The cipher suite of a stored state, read from its epoch part without decoding it (the engine needs
 * the suite before it can decode): FORMAT u16, epoch u64, removed u8, then the current state
 * (rfc9420/group-state-codec.ts: its format u16, then the GroupContext: version u16, cipher_suite u16).
 */
export function storedCipherSuite(epochPart: Uint8Array): number {
  const r = new TlsReader(epochPart);
  const format = r.u16();
  if (format !== FORMAT && format !== FORMAT_TREE_INLINE)
    throw new MlsProcessingError("cannot load group state: unknown epoch part format");
  r.u64();
  r.u8();
  if (format === FORMAT) r.u32();
  r.varint();
  r.u16();
  r.u16();
  return r.u16();
}
