/**
 * Persisting a ts-mls ClientState in two parts, so that saving after every application message does
 * not rewrite the ratchet tree (kilobytes per member; megabytes for a large group).
 *
 * What changes when:
 *  - per epoch (a commit): the ratchet tree, the group context, the key schedule (sender_data_secret,
 *    init/exporter/… secrets), our private path keys, the confirmation tag, the group's active state,
 *    and the set of earlier epochs kept to read late messages (their trees, contexts and secrets);
 *  - per message: only secret trees — the current epoch's (RFC 9420 §9: a hash ratchet per sender and
 *    content type, lazily derived from the root) and those of the kept earlier epochs, when a late
 *    message from one of them is read. ts-mls's key schedule holds nothing that ratchets per message.
 *
 * So:
 *  - epochPart   = 0x01 ‖ flags u8 ‖ clientStateEncoder(state with every secret tree emptied to
 *                  {leafWidth}) — ts-mls's own encoder, byte-identical for every state of one epoch.
 *                  flags bit 0: the epoch is "exposed" (see ts-mls-engine.ts), a per-epoch fact;
 *  - ratchetPart = 0x01 ‖ epoch u64 ‖ SecretTree (current) ‖ u32 n ‖ n × (epoch u64 ‖ SecretTree)
 *                  in the format below, a few hundred bytes per active sender.
 *
 * A caller may therefore write the epoch part only when the epoch moved (as ProfileRepository does)
 * and the ratchet part every time. Unapplied proposals would change within an epoch too; the engine
 * never keeps any (it rejects standalone proposals), and encoding refuses a state that has some.
 *
 * SecretTree (ours; ts-mls does not export its secret-tree codec):
 *   u32 leaf_width ‖ u32 n ‖ n × (u32 node ‖ secret<V>) ‖ u32 m ‖ m × (u32 node ‖ Ratchet handshake ‖ Ratchet application)
 *   Ratchet = secret<V> ‖ u32 generation ‖ u32 k ‖ k × (u32 generation ‖ secret<V>)   (kept unused generations)
 */
import {
  type ClientState,
  clientStateDecoder,
  clientStateEncoder,
  type EpochReceiverData,
  encode,
  type GenerationSecret,
  type SecretTree,
  type SecretTreeNode,
} from "ts-mls";
import type { SerializedGroupState } from "./engine.js";
import { TlsReader, TlsWriter } from "./tls-codec.js";

const EPOCH_PART_VERSION = 1;
const RATCHET_PART_VERSION = 1;

export class StateCodecError extends Error {
  override name = "StateCodecError";
}

const emptySecretTree = (leafWidth: number): SecretTree => ({
  leafWidth,
  intermediateNodes: {},
  leafNodes: {},
});

function writeRatchet(w: TlsWriter, g: GenerationSecret): void {
  w.vector(g.secret).u32(g.generation);
  const unused = Object.entries(g.unusedGenerations);
  w.u32(unused.length);
  for (const [generation, secret] of unused) w.u32(Number(generation)).vector(secret);
}

function readRatchet(r: TlsReader): GenerationSecret {
  const secret = r.vector().slice();
  const generation = r.u32();
  const unusedGenerations: Record<number, Uint8Array> = {};
  for (let n = r.u32(); n > 0; n--) unusedGenerations[r.u32()] = r.vector().slice();
  return { secret, generation, unusedGenerations };
}

export function writeSecretTree(w: TlsWriter, tree: SecretTree): void {
  w.u32(tree.leafWidth);
  const intermediate = Object.entries(tree.intermediateNodes);
  w.u32(intermediate.length);
  for (const [node, secret] of intermediate) w.u32(Number(node)).vector(secret);
  const leaves = Object.entries(tree.leafNodes);
  w.u32(leaves.length);
  for (const [node, leaf] of leaves) {
    w.u32(Number(node));
    writeRatchet(w, leaf.handshake);
    writeRatchet(w, leaf.application);
  }
}

export function readSecretTree(r: TlsReader): SecretTree {
  const leafWidth = r.u32();
  const intermediateNodes: Record<number, Uint8Array> = {};
  for (let n = r.u32(); n > 0; n--) intermediateNodes[r.u32()] = r.vector().slice();
  const leafNodes: Record<number, SecretTreeNode> = {};
  for (let n = r.u32(); n > 0; n--) {
    const node = r.u32();
    const handshake = readRatchet(r);
    const application = readRatchet(r);
    leafNodes[node] = { handshake, application };
  }
  return { leafWidth, intermediateNodes, leafNodes };
}

/** Engine facts about an epoch that ts-mls's ClientState does not hold. */
export interface EpochFlags {
  exposed: boolean;
}

function sortedHistory(state: ClientState): [bigint, EpochReceiverData][] {
  return [...state.historicalReceiverData.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The epoch part: everything but the secret trees. Byte-identical for every state of one epoch. */
export function encodeEpochPart(state: ClientState, flags: EpochFlags): Uint8Array {
  const stripped: ClientState = {
    ...state,
    secretTree: emptySecretTree(state.secretTree.leafWidth),
    historicalReceiverData: new Map(
      sortedHistory(state).map(([e, data]): [bigint, EpochReceiverData] => [
        e,
        { ...data, secretTree: emptySecretTree(data.secretTree.leafWidth) },
      ]),
    ),
  };
  const encoded = encode(clientStateEncoder, stripped);
  const epochPart = new Uint8Array(2 + encoded.length);
  epochPart[0] = EPOCH_PART_VERSION;
  epochPart[1] = flags.exposed ? 1 : 0;
  epochPart.set(encoded, 2);
  return epochPart;
}

/** The ratchet part: the secret trees of the current and the kept earlier epochs. */
export function encodeRatchetPart(state: ClientState): Uint8Array {
  const historical = sortedHistory(state);
  const w = new TlsWriter().u8(RATCHET_PART_VERSION).u64(state.groupContext.epoch);
  writeSecretTree(w, state.secretTree);
  w.u32(historical.length);
  for (const [e, data] of historical) {
    w.u64(e);
    writeSecretTree(w, data.secretTree);
  }
  return w.finish();
}

/**
 * What the epoch part was made of, by identity: ts-mls keeps these objects as they are for as long
 * as the epoch lasts (an application message replaces only secret trees), so an equal fingerprint
 * means equal epoch-part bytes.
 */
interface EpochFingerprint {
  parts: unknown[];
  exposed: boolean;
  bytes: Uint8Array;
}

function fingerprint(state: ClientState): unknown[] {
  const parts: unknown[] = [
    state.ratchetTree,
    state.groupContext,
    state.privatePath,
    state.signaturePrivateKey,
    state.unappliedProposals,
    state.confirmationTag,
    state.groupActiveState,
  ];
  for (const [e, data] of sortedHistory(state)) {
    parts.push(e, data.ratchetTree, data.groupContext, data.senderDataSecret, data.resumptionPsk);
  }
  return parts;
}

/** Epoch parts already encoded, by the epoch's key schedule object (one per epoch in ts-mls). */
const epochParts = new WeakMap<object, EpochFingerprint>();

function cachedEpochPart(state: ClientState, flags: EpochFlags): Uint8Array {
  const parts = fingerprint(state);
  const cached = epochParts.get(state.keySchedule);
  if (
    cached !== undefined &&
    cached.exposed === flags.exposed &&
    cached.parts.length === parts.length &&
    cached.parts.every((p, i) => p === parts[i])
  ) {
    return cached.bytes;
  }
  const bytes = encodeEpochPart(state, flags);
  epochParts.set(state.keySchedule, { parts, exposed: flags.exposed, bytes });
  return bytes;
}

/**
 * Both parts. The epoch part — megabytes for a large group — is encoded only when read, and once per
 * epoch: a caller that writes it only when the epoch moved (ProfileRepository) pays, after an
 * application message, for the ratchet part alone.
 */
export function encodeGroupState(state: ClientState, flags: EpochFlags): SerializedGroupState {
  if (Object.keys(state.unappliedProposals).length > 0) {
    throw new StateCodecError("cannot split a state with unapplied proposals (they change within an epoch)");
  }
  const ratchetPart = encodeRatchetPart(state);
  let epochPart: Uint8Array | undefined;
  return {
    epoch: state.groupContext.epoch,
    get epochPart(): Uint8Array {
      epochPart ??= cachedEpochPart(state, flags);
      return epochPart;
    },
    ratchetPart,
  };
}

export function decodeGroupState(serialized: SerializedGroupState): { client: ClientState } & EpochFlags {
  const { epochPart, ratchetPart } = serialized;
  if (epochPart[0] !== EPOCH_PART_VERSION) throw new StateCodecError("unknown epoch part version");
  const flags = epochPart[1] ?? 0xff;
  if ((flags & ~1) !== 0) throw new StateCodecError("unknown epoch part flags");
  // ts-mls' decoders return views into their input, and the engine zeroes spent secrets in place:
  // decode from a private copy, so that neither the caller's bytes nor a cached epoch part (the
  // same buffer for every state of an epoch) is ever written to.
  const decoded = clientStateDecoder(epochPart.slice(), 2);
  if (decoded === undefined) throw new StateCodecError("epoch part does not decode");
  const [base, length] = decoded;
  if (2 + length !== epochPart.length) throw new StateCodecError("trailing bytes after the epoch part");
  const epoch = base.groupContext.epoch;
  if (epoch !== serialized.epoch) {
    throw new StateCodecError(`epoch part is for epoch ${epoch}, expected ${serialized.epoch}`);
  }

  const r = new TlsReader(ratchetPart);
  if (r.u8() !== RATCHET_PART_VERSION) throw new StateCodecError("unknown ratchet part version");
  const ratchetEpoch = r.u64();
  if (ratchetEpoch !== epoch) {
    throw new StateCodecError(`ratchet part is for epoch ${ratchetEpoch}, epoch part for ${epoch}`);
  }
  const secretTree = readSecretTree(r);
  const historicalTrees = new Map<bigint, SecretTree>();
  for (let n = r.u32(); n > 0; n--) {
    const e = r.u64();
    historicalTrees.set(e, readSecretTree(r));
  }
  r.end();

  if (secretTree.leafWidth !== base.secretTree.leafWidth)
    throw new StateCodecError("secret tree width mismatch");
  const historicalReceiverData = new Map<bigint, EpochReceiverData>();
  for (const [e, data] of base.historicalReceiverData) {
    const tree = historicalTrees.get(e);
    if (tree === undefined) throw new StateCodecError(`ratchet part lacks the secret tree of epoch ${e}`);
    historicalReceiverData.set(e, { ...data, secretTree: tree });
  }
  if (historicalTrees.size !== historicalReceiverData.size) {
    throw new StateCodecError("ratchet part has secret trees of epochs the epoch part does not keep");
  }
  return { client: { ...base, secretTree, historicalReceiverData }, exposed: (flags & 1) === 1 };
}
