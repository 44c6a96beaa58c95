/**
 * The MLS seam. Everything above this file speaks of groups, members and opaque state; only the
 * implementation behind it knows MLS: Rfc9420Engine (rfc9420-engine/, Parley's own, the product's) or
 * TsMlsEngine (ts-mls-engine.ts, on ts-mls: tests and benches only, entry "@parley/core/ts-mls").
 * Swapping or optimising the MLS implementation means writing another MlsEngine, nothing else.
 *
 * States are immutable values: every operation takes a state and returns the next one. The caller
 * persists the new state before it acknowledges or sends anything derived from it.
 */
import type { MlsCiphersuiteName } from "../crypto/provider.js";
import type { DeviceIdentity } from "../identity/device.js";

/** A group state, opaque outside the engine. */
export interface EncryptOptions {
  /**
   * Use at least this generation of our application ratchet: the ones before it are skipped, their
   * keys never derived (§9.2). For a device whose stored state may be older than what it already
   * sent from (a power cut). Engines that cannot skip ignore it and report no `generation`.
   */
  minGeneration?: number;
}

export interface GroupState {
  readonly groupId: Uint8Array;
  readonly epoch: bigint;
}

export interface KeyPackageBundle {
  /** Encoded MLSMessage(KeyPackage): safe to hand to others. */
  publicMessage: Uint8Array;
  /**
   * Private half (init and leaf HPKE keys, plus a copy of the device's signature key, which joining
   * needs): stays on the device, deleted once used.
   */
  privateKey: Uint8Array;
}

/** One member leaf of a group, with the identity its certificate binds it to (already verified). */
export interface Member {
  leafIndex: number;
  identityKey: Uint8Array;
  deviceKey: Uint8Array;
}

export type IncomingMessage =
  | {
      kind: "application";
      state: GroupState;
      plaintext: Uint8Array;
      sender: Member;
      /**
       * Where the message sits in its sender's application ratchet (RFC 9420 §9.1): generations
       * count 0, 1, 2… per sender and epoch, so a jump means messages in between did not arrive.
       */
      epoch: bigint;
      generation: number;
    }
  | {
      kind: "commit";
      state: GroupState;
      sender: Member | undefined;
      added: Member[];
      removed: Member[];
      /** The group's Parley metadata after this commit, when the commit changed it. */
      metadata?: Uint8Array;
    }
  | { kind: "removed"; state: GroupState; sender: Member | undefined };

/** The split form a state is persisted in; see `saveState`. */
export interface SerializedGroupState {
  epoch: bigint;
  /** Changes once per epoch (group context, path keys, … and the tree, unless stored apart). */
  epochPart: Uint8Array;
  /** Changes with every message (secret tree ratchets, …). */
  ratchetPart: Uint8Array;
  /** The ratchet tree, for engines that store it apart from the epoch part (Rfc9420Engine). */
  tree?: TreePieces;
}

/**
 * A ratchet tree stored as pieces (Rfc9420Engine: a whole tree, then the nodes each save changed), so
 * that a commit writes what it changed, not megabytes of tree. `pieces` is always the whole chain
 * (a serialized state is complete: it loads anywhere); `held` says how many of them, from the first,
 * the store already holds, so a save writes only the others. A load hands every stored piece over.
 */
export interface TreePieces {
  pieces: Uint8Array[];
  held: number;
}

/** What one commit changes. Any combination; an empty one is a key update. */
export interface GroupChanges {
  /** Encoded MLSMessage(KeyPackage)s of the members to add. */
  add?: Uint8Array[];
  /** Leaf indexes to remove. */
  remove?: number[];
  /** New Parley group metadata (name, roles…), carried in a private GroupContext extension. */
  metadata?: Uint8Array;
  /**
   * Our leaf becomes this device (new signature key, new certificate, perhaps of a new identity
   * key): a key reset (client/reset/). The receivers see our leaf's identity and device change.
   */
  device?: DeviceIdentity;
}

/** A received commit as the group policy sees it, before it is applied. */
export interface ProposedCommit {
  before: GroupState;
  committer: Member | undefined;
  added: Member[];
  removed: Member[];
  /** Present when the commit changes the metadata: the new value. */
  metadata?: Uint8Array;
}

/**
 * Every member's client enforces the group's rules (who may add, remove, rename) on every commit it
 * receives — the relay cannot, it sees none of it. Returns a reason to reject, or undefined to accept.
 */
export type CommitPolicy = (commit: ProposedCommit) => string | undefined;

export interface KeyPackageOptions {
  /**
   * The KeyPackage's MLS cipher suite — and so that of a group created with it, or joined through it
   * (RFC 9420 §12.1.1: a member's KeyPackage is of the group's suite). Default: the engine's
   * `ciphersuite`. An engine refuses a suite it does not speak.
   */
  cipherSuite?: MlsCiphersuiteName;
}

export interface MlsEngine {
  /** The cipher suite of KeyPackages made without options. */
  readonly ciphersuite: string;
  /** The cipher suites this engine speaks (its KeyPackages' capabilities list them). */
  readonly ciphersuites: readonly MlsCiphersuiteName[];
  createKeyPackage(device: DeviceIdentity, options?: KeyPackageOptions): Promise<KeyPackageBundle>;
  /** The group's cipher suite (chosen by its creator's KeyPackage). */
  cipherSuiteOf(state: GroupState): MlsCiphersuiteName;
  createGroup(
    groupId: Uint8Array,
    device: DeviceIdentity,
    keyPackage: KeyPackageBundle,
    metadata?: Uint8Array,
  ): Promise<GroupState>;
  /**
   * One commit with any mix of adds, removes and a metadata change (more than one commit only where
   * `removeMembers` says so). `welcome` is set when members were added.
   */
  commit(
    state: GroupState,
    changes: GroupChanges,
  ): Promise<{ state: GroupState; commits: Uint8Array[]; welcome?: Uint8Array; added: Member[] }>;
  /** The group's current Parley metadata, if any. */
  metadata(state: GroupState): Uint8Array | undefined;
  /**
   * MLS-Exporter(label, context, length) of the state's epoch (RFC 9420 §8.5): a secret every
   * member in this epoch derives alike and nobody else can, for keys outside MLS.
   */
  exportSecret(state: GroupState, label: string, context: Uint8Array, length: number): Promise<Uint8Array>;
  /**
   * The leaf index that sent a PrivateMessage of this group's current (or a retained) epoch, without
   * processing it; undefined when it cannot be told. Used to skip our own messages echoed back by
   * a shared group queue.
   */
  senderOf(state: GroupState, message: Uint8Array): Promise<number | undefined>;
  /** Adds members in one commit. The Welcome carries the ratchet tree inside its encrypted GroupInfo. */
  addMembers(
    state: GroupState,
    keyPackages: Uint8Array[],
  ): Promise<{ state: GroupState; commit: Uint8Array; welcome: Uint8Array; added: Member[] }>;
  /**
   * Removes members. Usually one commit; two when the MLS library leaves the UpdatePath out of a
   * removal commit (the second, path-only commit takes the group to keys the removed cannot derive).
   * Send all of `commits`, in order.
   */
  removeMembers(
    state: GroupState,
    leafIndexes: number[],
  ): Promise<{ state: GroupState; commits: Uint8Array[] }>;
  /** Commits a fresh UpdatePath and nothing else: new keys for our leaf and path (post-compromise security). */
  updateKeys(state: GroupState): Promise<{ state: GroupState; commit: Uint8Array }>;
  /**
   * Validates a received KeyPackage (signatures, lifetime, capabilities, credential) and says whose
   * it is. `leafIndex` is -1: a KeyPackage is in no group yet.
   */
  inspectKeyPackage(keyPackage: Uint8Array): Promise<Member>;
  joinFromWelcome(welcome: Uint8Array, keyPackage: KeyPackageBundle): Promise<GroupState>;
  /**
   * Seals application data. `generation`: the application ratchet generation it used (RFC 9420
   * §9.1), from engines that can say; with it the client sends without a disk sync per message
   * (client/sending-ahead.ts). Throws MlsProcessingError while a removed member could still derive
   * the epoch's keys.
   */
  encrypt(
    state: GroupState,
    plaintext: Uint8Array,
    options?: EncryptOptions,
  ): Promise<{ state: GroupState; message: Uint8Array; generation?: number }>;
  /** Decrypts and verifies; throws MlsProcessingError for anything forged, tampered or out of place. */
  process(state: GroupState, message: Uint8Array, policy?: CommitPolicy): Promise<IncomingMessage>;
  members(state: GroupState): Member[];
  ownLeafIndex(state: GroupState): number;
  serialize(state: GroupState): SerializedGroupState;
  deserialize(serialized: SerializedGroupState): GroupState;
  /**
   * False once an operation has used `state` (its consumed secrets are erased: only the state that
   * operation returned goes on). A client keeping states between operations asks before reusing one.
   */
  usable(state: GroupState): boolean;
  /**
   * The store now holds `state` as `saved` (what serialize gave for it): call once that write has
   * landed. The next save of a state that follows from it is relative to it (its tree pieces).
   */
  stored(state: GroupState, saved: SerializedGroupState): void;
}

export class MlsProcessingError extends Error {
  override name = "MlsProcessingError";
}

/**
 * A message of an epoch this state has not reached yet: the commit that leads there has not been
 * processed (delivered later, or still on its way). Not a forgery by itself: a client keeps such a
 * message and tries it again after the next commit.
 */
export class MlsFutureEpochError extends MlsProcessingError {
  override name = "MlsFutureEpochError";
  constructor(
    readonly epoch: bigint,
    readonly current: bigint,
  ) {
    super(`message from future epoch ${epoch} (we are at epoch ${current})`);
  }
}

/** Which MLS wire format an encoded MLSMessage carries, read without decrypting anything. */
export type WireKind = "welcome" | "private" | "public" | "key_package" | "group_info" | "unknown";

/**
 * The cipher suite id of an encoded MLSMessage(KeyPackage), read from its header (version u16,
 * wire_format u16 = 5, then KeyPackage.version u16, cipher_suite u16) without validating anything;
 * undefined when the bytes are not a KeyPackage message.
 */
export function keyPackageCipherSuiteId(publicMessage: Uint8Array): number | undefined {
  if (publicMessage.length < 8 || publicMessage[2] !== 0 || publicMessage[3] !== 5) return undefined;
  return (publicMessage[6]! << 8) | publicMessage[7]!;
}
