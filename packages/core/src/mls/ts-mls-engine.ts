/**
 * MlsEngine on ts-mls (RFC 9420), cipher suite MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519, with the
 * primitives of a Parley CryptoProvider and Parley's authentication service (device certificates).
 *
 * Rules this engine keeps:
 *  - Every handshake and application message is a PrivateMessage; a PublicMessage is never sent and
 *    never accepted. Standalone proposals are neither (Parley commits its proposals inline).
 *  - Welcomes carry the ratchet tree in the (encrypted) GroupInfo's ratchet_tree extension.
 *  - Every leaf that enters a group — KeyPackage added, Welcome tree, commit path — must carry a
 *    Parley device credential that verifies for that leaf's signature key (ParleyAuthenticationService).
 *  - Whatever ts-mls reports as `consumed` (used ratchet secrets, old init secrets) is zeroed right
 *    away, for forward secrecy — except what the new state still references: ts-mls 2.0.0-rc.10's
 *    createCommit lists secret-tree nodes that the new state keeps (for the previous epoch's late
 *    messages), and zeroing those would break reading them. Zeroing spends the input state: its
 *    secrets are gone, so the engine remembers it and refuses to use it again ("already used")
 *    rather than computing with zeros. Keep the returned state; to retry after a failed save, load
 *    the last saved one.
 *  - Removal must change the keys the removed member knows (RFC 9420 §12.4: a Commit covering a
 *    Remove MUST carry an UpdatePath). ts-mls 2.0.0-rc.10 adds a path only for two or more Removes,
 *    so after a path-less removal commit the engine immediately commits again with a fresh UpdatePath
 *    (updateKeys) and returns both commits. An epoch entered by a path-less commit that removed
 *    someone — ours or received — is "exposed" (a removed member can derive its keys): the engine
 *    refuses to encrypt or add members in it until a commit with a path moves the group on.
 *  - ts-mls 2.0.0-rc.10 encrypts the UpdatePath of a commit that also adds members or changes the
 *    GroupContext extensions so that the receivers cannot open it (copath resolutions computed with
 *    the new leaves but encrypted to the old tree's nodes; the GroupContext without the proposed
 *    extensions). So adds and metadata changes always go in a commit of their own, without a path
 *    (see `commit`).
 *  - The group's Parley metadata (name, roles…; opaque bytes here) lives in a private-use GroupContext
 *    extension, PARLEY_METADATA_EXTENSION, which every Parley KeyPackage lists in its capabilities
 *    and every group requires (required_capabilities), so a client without it cannot be added. It is
 *    changed by a GroupContextExtensions proposal; a received commit may change nothing else of the
 *    GroupContext extensions, and may carry only Add, Remove and GroupContextExtensions proposals.
 *  - Received commits are checked against the caller's CommitPolicy (e.g. only admins add or remove)
 *    before anything is applied; a rejected commit leaves the state as it was.
 *  - A failed operation spends nothing and changes nothing: the input state stays valid.
 *  - Every ts-mls error becomes an MlsProcessingError whose message says what was being done.
 */
import {
  type AuthenticationService,
  type Capabilities,
  type CiphersuiteImpl,
  type ClientState,
  contentTypes,
  createApplicationMessage,
  createCommit,
  createGroup,
  defaultCapabilities,
  defaultCredentialTypes,
  defaultExtensionTypes,
  defaultProposalTypes,
  encode,
  type GroupContextExtension,
  generateKeyPackageWithKey,
  type IncomingMessageCallback,
  joinGroup,
  type KeyPackage,
  type LeafNode,
  type MlsContext,
  type MlsMessage,
  type MlsWelcomeMessage,
  makeCustomExtension,
  mlsExporter,
  mlsMessageDecoder,
  mlsMessageEncoder,
  nodeTypes,
  type PrivateKeyPackage,
  type Proposal,
  type ProposalWithSender,
  privateKeyPackageDecoder,
  privateKeyPackageEncoder,
  processMessage,
  protocolVersions,
  type RatchetTree,
  type RequiredCapabilities,
  type Signature,
  wireformats,
  zeroOutUint8Array,
} from "ts-mls";
import type { MlsSuite } from "../crypto/mls-suite.js";
import { type CryptoProvider, DEFAULT_MLS_CIPHERSUITE, type MlsCiphersuiteName } from "../crypto/provider.js";
import { equalBytes } from "../encoding/bytes.js";
import {
  deviceCredentialOf,
  deviceMlsCredential,
  ParleyAuthenticationService,
} from "../identity/credential.js";
import type { DeviceIdentity } from "../identity/device.js";
import {
  type CommitPolicy,
  type GroupChanges,
  type GroupState,
  type IncomingMessage,
  type KeyPackageBundle,
  type KeyPackageOptions,
  type Member,
  type MlsEngine,
  MlsFutureEpochError,
  MlsProcessingError,
  type ProposedCommit,
  type SerializedGroupState,
  type WireKind,
} from "./engine.js";
import { PARLEY_METADATA_EXTENSION } from "./group-extensions.js";
import { validateKeyPackage } from "./key-package.js";

export { PARLEY_METADATA_EXTENSION };

import { decryptSenderData } from "./sender-data.js";
import { decodeGroupState, encodeGroupState } from "./state-codec.js";

/**
 * A provider's MlsSuite as ts-mls' CiphersuiteImpl: the same members, only HPKE keys are typed
 * otherwise (opaque objects of the provider's own there, CryptoKeys here), and ts-mls only hands
 * them back to the Hpke that made them. The same object, no copy.
 */
export const tsMlsSuite = (suite: MlsSuite): CiphersuiteImpl => suite as unknown as CiphersuiteImpl;

/** What every Parley group requires of its members' leaves. */
const PARLEY_REQUIRED_CAPABILITIES: RequiredCapabilities = {
  extensionTypes: [PARLEY_METADATA_EXTENSION],
  proposalTypes: [],
  credentialTypes: [defaultCredentialTypes.basic],
};

/** The proposal types a Parley commit may carry. */
const ALLOWED_PROPOSALS = new Set<number>([
  defaultProposalTypes.add,
  defaultProposalTypes.remove,
  defaultProposalTypes.group_context_extensions,
]);

/** ts-mls's default capabilities (with its GREASE values) plus Parley's metadata extension. */
export function parleyCapabilities(): Capabilities {
  const caps = defaultCapabilities();
  return { ...caps, extensions: [PARLEY_METADATA_EXTENSION, ...caps.extensions] };
}

function supportsMetadata(leaf: LeafNode): boolean {
  return leaf.capabilities.extensions.includes(PARLEY_METADATA_EXTENSION);
}

function metadataExtension(metadata: Uint8Array): GroupContextExtension {
  return makeCustomExtension({ extensionType: PARLEY_METADATA_EXTENSION, extensionData: metadata.slice() });
}

function metadataOf(extensions: GroupContextExtension[]): Uint8Array | undefined {
  const ext = extensions.find((e) => e.extensionType === PARLEY_METADATA_EXTENSION);
  return ext === undefined ? undefined : (ext.extensionData as Uint8Array);
}

function requiredCapabilitiesOf(extensions: GroupContextExtension[]): string | undefined {
  const ext = extensions.find((e) => e.extensionType === defaultExtensionTypes.required_capabilities);
  if (ext === undefined) return undefined;
  const caps = ext.extensionData as RequiredCapabilities;
  return JSON.stringify([caps.extensionTypes, caps.proposalTypes, caps.credentialTypes]);
}

/** The GroupContextExtensions proposal that sets the metadata and keeps every other extension. */
function metadataProposal(client: ClientState, metadata: Uint8Array): Proposal {
  const others = client.groupContext.extensions.filter((e) => e.extensionType !== PARLEY_METADATA_EXTENSION);
  return {
    proposalType: defaultProposalTypes.group_context_extensions,
    groupContextExtensions: { extensions: [...others, metadataExtension(metadata)] },
  };
}

function describeChanges(changes: GroupChanges): string {
  const what: string[] = [];
  if (changes.add?.length) what.push("add members");
  if (changes.remove?.length) what.push("remove members");
  if (changes.metadata !== undefined) what.push("change the group metadata");
  return what.length === 0 ? "update keys" : what.join(" and ");
}

/**
 * A received commit's proposals (already decrypted and validated by ts-mls) as the policy sees them,
 * or why Parley refuses the commit whatever the policy says. Added members have leafIndex -1: ts-mls
 * places them only when it applies the commit (the commit's result reports their leaves).
 */
function proposedCommit(
  before: GroupState,
  client: ClientState,
  committerLeaf: number | undefined,
  proposals: ProposalWithSender[],
): ProposedCommit | string {
  const tree = client.ratchetTree;
  const committer = committerLeaf === undefined ? undefined : memberAt(tree, committerLeaf);
  if (committer === undefined) return "commit from outside the group";
  const added: Member[] = [];
  const addedLeaves: LeafNode[] = [];
  const removed: Member[] = [];
  let extensions: GroupContextExtension[] | undefined;
  for (const { proposal, senderLeafIndex } of proposals) {
    if (!ALLOWED_PROPOSALS.has(proposal.proposalType))
      return `proposal type ${proposal.proposalType} is not used in Parley`;
    if (senderLeafIndex !== committerLeaf) return "proposal by someone other than the committer";
    if (proposal.proposalType === defaultProposalTypes.add && "add" in proposal) {
      const leaf = proposal.add.keyPackage.leafNode;
      const { identityKey } = deviceCredentialOf(leaf.credential);
      added.push({ leafIndex: -1, identityKey, deviceKey: leaf.signaturePublicKey.slice() });
      addedLeaves.push(leaf);
    } else if (proposal.proposalType === defaultProposalTypes.remove && "remove" in proposal) {
      const m = memberAt(tree, proposal.remove.removed);
      if (m === undefined) return `removal of empty leaf ${proposal.remove.removed}`;
      removed.push(m);
    } else if ("groupContextExtensions" in proposal) {
      extensions = proposal.groupContextExtensions.extensions;
    }
  }
  const out: ProposedCommit = { before, committer, added, removed };
  if (extensions === undefined) return out;

  const old = client.groupContext.extensions;
  for (const e of extensions) {
    if (
      e.extensionType !== PARLEY_METADATA_EXTENSION &&
      e.extensionType !== defaultExtensionTypes.required_capabilities
    )
      return `GroupContext extension ${e.extensionType} is not used in Parley`;
  }
  if (requiredCapabilitiesOf(extensions) !== requiredCapabilitiesOf(old))
    return "the commit changes the group's required capabilities";
  const next = metadataOf(extensions);
  const previous = metadataOf(old);
  if (next === undefined) {
    return previous === undefined ? out : "the commit removes the group metadata";
  }
  const gone = new Set(removed.map((m) => m.leafIndex));
  for (let i = 0; i * 2 < tree.length; i++) {
    const leaf = leafAt(tree, i);
    if (leaf !== undefined && !gone.has(i) && !supportsMetadata(leaf))
      return `the member at leaf ${i} does not support group metadata`;
  }
  if (!addedLeaves.every(supportsMetadata)) return "an added member does not support group metadata";
  if (previous !== undefined && equalBytes(previous, next)) return out;
  return { ...out, metadata: next.slice() };
}

const CLIENT_STATE = Symbol("parley.tsMlsClientState");

/** States spent by an operation (their consumed secrets are zeroed). */
const spent = new WeakSet<GroupState>();

const WIRE_KINDS: Record<number, WireKind> = {
  [wireformats.mls_public_message]: "public",
  [wireformats.mls_private_message]: "private",
  [wireformats.mls_welcome]: "welcome",
  [wireformats.mls_group_info]: "group_info",
  [wireformats.mls_key_package]: "key_package",
};

/** Which wire format an encoded MLSMessage carries (version u16 ‖ wire_format u16 ‖ …), decrypting nothing. */
export function wireKindOf(message: Uint8Array): WireKind {
  if (message.length < 4 || message[0] !== 0 || message[1] !== protocolVersions.mls10) return "unknown";
  return WIRE_KINDS[(message[2]! << 8) | message[3]!] ?? "unknown";
}

/** What a GroupState of this engine holds. */
interface Inner {
  client: ClientState;
  /** This epoch was entered by a path-less commit that removed someone: they can derive its keys. */
  exposed: boolean;
}

function wrap(client: ClientState, exposed: boolean): GroupState {
  const state = { groupId: client.groupContext.groupId.slice(), epoch: client.groupContext.epoch };
  // Non-enumerable: keeps secrets out of console.log / JSON of a state.
  const inner: Inner = { client, exposed };
  Object.defineProperty(state, CLIENT_STATE, { value: inner, enumerable: false });
  return Object.freeze(state);
}

/** Every secret buffer the state still holds, by identity. */
function heldSecrets(client: ClientState): Set<Uint8Array> {
  const held = new Set<Uint8Array>();
  const addTree = (tree: ClientState["secretTree"]) => {
    for (const v of Object.values(tree.intermediateNodes)) held.add(v);
    for (const leaf of Object.values(tree.leafNodes)) {
      for (const r of [leaf.handshake, leaf.application]) {
        held.add(r.secret);
        for (const v of Object.values(r.unusedGenerations)) held.add(v);
      }
    }
  };
  addTree(client.secretTree);
  for (const v of Object.values(client.keySchedule)) held.add(v);
  for (const v of Object.values(client.privatePath.privateKeys)) held.add(v);
  held.add(client.signaturePrivateKey);
  for (const data of client.historicalReceiverData.values()) {
    addTree(data.secretTree);
    held.add(data.senderDataSecret);
    held.add(data.resumptionPsk);
  }
  return held;
}

/** A commit carried an UpdatePath iff it replaced the committer's leaf (new HPKE key, source commit). */
function committedWithPath(before: RatchetTree, after: RatchetTree, committer: number): boolean {
  const old = leafAt(before, committer);
  const now = leafAt(after, committer);
  return old !== undefined && now !== undefined && !equalBytes(old.hpkePublicKey, now.hpkePublicKey);
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const kind = error.name && error.name !== "Error" ? `${error.name}: ` : "";
    return kind + error.message;
  }
  return String(error);
}

function fail(what: string, error?: unknown): never {
  if (error instanceof MlsProcessingError) throw error;
  throw new MlsProcessingError(error === undefined ? what : `${what}: ${describe(error)}`, { cause: error });
}

function leafAt(tree: RatchetTree, leafIndex: number): LeafNode | undefined {
  const node = tree[leafIndex * 2];
  return node?.nodeType === nodeTypes.leaf ? node.leaf : undefined;
}

/** The Member at a leaf. The credential was verified by the authentication service when the leaf entered the tree. */
function memberAt(tree: RatchetTree, leafIndex: number): Member | undefined {
  const leaf = leafAt(tree, leafIndex);
  if (leaf === undefined) return undefined;
  let identityKey: Uint8Array;
  try {
    identityKey = deviceCredentialOf(leaf.credential).identityKey;
  } catch (e) {
    fail(`leaf ${leafIndex} has no Parley credential`, e);
  }
  return { leafIndex, identityKey, deviceKey: leaf.signaturePublicKey.slice() };
}

function membersOf(tree: RatchetTree): Member[] {
  const out: Member[] = [];
  for (let i = 0; i * 2 < tree.length; i++) {
    const m = memberAt(tree, i);
    if (m !== undefined) out.push(m);
  }
  return out;
}

function memberBySignatureKey(tree: RatchetTree, signatureKey: Uint8Array): Member | undefined {
  for (let i = 0; i * 2 < tree.length; i++) {
    const leaf = leafAt(tree, i);
    if (leaf !== undefined && equalBytes(leaf.signaturePublicKey, signatureKey)) return memberAt(tree, i);
  }
  return undefined;
}

/**
 * The ts-mls ClientState inside a GroupState of TsMlsEngine, secrets and all. For benchmarks and
 * tests that compare the engine with ts-mls itself; application code never needs it.
 */
export function tsMlsClientStateOf(state: GroupState): ClientState {
  const inner = (state as { [CLIENT_STATE]?: Inner })[CLIENT_STATE];
  if (inner === undefined) fail("not a group state of TsMlsEngine");
  return inner.client;
}

export class TsMlsEngine implements MlsEngine {
  readonly ciphersuite = DEFAULT_MLS_CIPHERSUITE;
  readonly ciphersuites: readonly MlsCiphersuiteName[] = [DEFAULT_MLS_CIPHERSUITE];
  readonly authService: AuthenticationService;
  private suitePromise: Promise<CiphersuiteImpl> | undefined;

  /** `crypto` supplies the MLS suite (its `mlsCiphersuite()`) and verifies device certificates. */
  constructor(private readonly crypto: CryptoProvider) {
    this.authService = new ParleyAuthenticationService(crypto);
  }

  private suite(): Promise<CiphersuiteImpl> {
    this.suitePromise ??= this.crypto.mlsCiphersuite(this.ciphersuite).then(tsMlsSuite);
    return this.suitePromise;
  }

  private async context(): Promise<MlsContext> {
    return { cipherSuite: await this.suite(), authService: this.authService };
  }

  /** The ts-mls state inside `state`; refuses spent states unless only public data is read. */
  private inner(state: GroupState, publicOnly = false): Inner {
    const inner = (state as { [CLIENT_STATE]?: Inner })[CLIENT_STATE];
    if (inner === undefined) fail("not a group state of TsMlsEngine");
    if (!publicOnly && spent.has(state)) {
      fail(
        "this group state was already used by an operation and its secrets are erased; use the state it returned",
      );
    }
    return inner;
  }

  private client(state: GroupState, publicOnly = false): ClientState {
    return this.inner(state, publicOnly).client;
  }

  /**
   * Zeroes what ts-mls consumed — except buffers `next` still holds — and marks the input state as
   * spent. Call only once the operation has succeeded and its result is built.
   */
  private spend(state: GroupState, consumed: Uint8Array[], next: ClientState): void {
    const held = heldSecrets(next);
    for (const secret of consumed) if (!held.has(secret)) zeroOutUint8Array(secret);
    spent.add(state);
  }

  private refuseIfExposed(inner: Inner, what: string): void {
    if (inner.exposed) {
      fail(
        `cannot ${what}: this epoch began with a commit that removed members without an UpdatePath, so ` +
          "they can derive its keys; wait for the next commit or make one with updateKeys",
      );
    }
  }

  /** Strict: the whole input must be exactly one MLSMessage. */
  private decodeMessage(bytes: Uint8Array, what: string): MlsMessage {
    let decoded: [MlsMessage, number] | undefined;
    try {
      decoded = mlsMessageDecoder(bytes, 0);
    } catch (e) {
      fail(`${what}: not an MLS message`, e);
    }
    if (decoded === undefined) fail(`${what}: not an MLS message`);
    if (decoded[1] !== bytes.length)
      fail(`${what}: ${bytes.length - decoded[1]} bytes after the MLS message`);
    return decoded[0];
  }

  private decodeKeyPackage(bytes: Uint8Array): KeyPackage {
    const message = this.decodeMessage(bytes, "KeyPackage");
    if (message.wireformat !== wireformats.mls_key_package) {
      fail(`expected a KeyPackage, got ${WIRE_KINDS[message.wireformat] ?? "unknown"} message`);
    }
    return message.keyPackage;
  }

  private openBundle(bundle: KeyPackageBundle): { keyPackage: KeyPackage; privateKeys: PrivateKeyPackage } {
    const keyPackage = this.decodeKeyPackage(bundle.publicMessage);
    const privateKeys = privateKeyPackageDecoder(bundle.privateKey, 0);
    if (privateKeys === undefined || privateKeys[1] !== bundle.privateKey.length) {
      fail("KeyPackage private part does not decode");
    }
    return { keyPackage, privateKeys: privateKeys[0] };
  }

  cipherSuiteOf(_state: GroupState): MlsCiphersuiteName {
    return DEFAULT_MLS_CIPHERSUITE;
  }

  async createKeyPackage(device: DeviceIdentity, options?: KeyPackageOptions): Promise<KeyPackageBundle> {
    if (options?.cipherSuite !== undefined && options.cipherSuite !== DEFAULT_MLS_CIPHERSUITE)
      fail(`TsMlsEngine speaks only ${DEFAULT_MLS_CIPHERSUITE}, not ${options.cipherSuite}`);
    const suite = await this.suite();
    const credential = deviceMlsCredential(device);
    if (!(await this.authService.validateCredential(credential, device.deviceKey))) {
      fail("device certificate does not verify for this device key");
    }
    const capabilities = parleyCapabilities();
    // GREASE KeyPackage extensions only of types the leaf lists (RFC 9420 §13.5 with §7.2/§7.3):
    // ts-mls' default picks them independently of the capabilities, and a strict peer (Rfc9420Engine)
    // refuses such a KeyPackage.
    const grease = capabilities.extensions.filter(
      (t) => (t & 0x0f0f) === 0x0a0a && t >> 12 === ((t >> 4) & 0xf),
    );
    const { publicPackage, privatePackage } = await generateKeyPackageWithKey({
      credential,
      capabilities,
      extensions: grease
        .slice(0, 1)
        .map((extensionType) => makeCustomExtension({ extensionType, extensionData: new Uint8Array(0) })),
      signatureKeyPair: { signKey: device.deviceSecretKey, publicKey: device.deviceKey },
      cipherSuite: suite,
    });
    return {
      publicMessage: encode(mlsMessageEncoder, {
        version: protocolVersions.mls10,
        wireformat: wireformats.mls_key_package,
        keyPackage: publicPackage,
      }),
      privateKey: encode(privateKeyPackageEncoder, privatePackage),
    };
  }

  async inspectKeyPackage(keyPackage: Uint8Array): Promise<Member> {
    const kp = this.decodeKeyPackage(keyPackage);
    try {
      await validateKeyPackage(kp, await this.suite(), this.authService);
    } catch (e) {
      fail("invalid KeyPackage", e);
    }
    const { identityKey } = deviceCredentialOf(kp.leafNode.credential);
    return { leafIndex: -1, identityKey, deviceKey: kp.leafNode.signaturePublicKey.slice() };
  }

  async createGroup(
    groupId: Uint8Array,
    device: DeviceIdentity,
    keyPackage: KeyPackageBundle,
    metadata?: Uint8Array,
  ): Promise<GroupState> {
    const { keyPackage: kp, privateKeys } = this.openBundle(keyPackage);
    if (!equalBytes(kp.leafNode.signaturePublicKey, device.deviceKey)) {
      fail("the KeyPackage is not this device's");
    }
    if (!supportsMetadata(kp.leafNode)) fail("the KeyPackage does not support Parley group metadata");
    try {
      const context = await this.context();
      const extensions: GroupContextExtension[] = [
        {
          extensionType: defaultExtensionTypes.required_capabilities,
          extensionData: PARLEY_REQUIRED_CAPABILITIES,
        },
      ];
      if (metadata !== undefined) extensions.push(metadataExtension(metadata));
      return wrap(
        await createGroup({ context, groupId, keyPackage: kp, privateKeyPackage: privateKeys, extensions }),
        false,
      );
    } catch (e) {
      fail("cannot create group", e);
    }
  }

  async exportSecret(state: GroupState, label: string, context: Uint8Array, length: number) {
    const client = this.client(state);
    return mlsExporter(client.keySchedule.exporterSecret, label, context, length, await this.suite());
  }

  metadata(state: GroupState): Uint8Array | undefined {
    return metadataOf(this.client(state, true).groupContext.extensions)?.slice();
  }

  /** createCommit with Parley's options (PrivateMessage, tree in the Welcome), errors mapped. */
  private async createCommit(client: ClientState, what: string, extraProposals: Proposal[]) {
    try {
      return await createCommit({
        context: await this.context(),
        state: client,
        extraProposals,
        // ts-mls builds, signs and encrypts a GroupInfo for every commit, Welcome or not; with the
        // tree inside that is a whole-tree encoding, so ask for the tree only when someone joins.
        ratchetTreeExtension: extraProposals.some((p) => p.proposalType === defaultProposalTypes.add),
        wireAsPublicMessage: false,
      });
    } catch (e) {
      fail(`cannot ${what}`, e);
    }
  }

  /** Decodes and validates KeyPackages to add (signatures, lifetime, capabilities, credential). */
  private async keyPackagesToAdd(keyPackages: Uint8Array[]): Promise<KeyPackage[]> {
    const suite = await this.suite();
    const kps: KeyPackage[] = [];
    for (const bytes of keyPackages) {
      const kp = this.decodeKeyPackage(bytes);
      try {
        await validateKeyPackage(kp, suite, this.authService);
      } catch (e) {
        fail("cannot add member: invalid KeyPackage", e);
      }
      kps.push(kp);
    }
    return kps;
  }

  /**
   * One logical change, in as few commits as ts-mls 2.0.0-rc.10 allows (each is a PrivateMessage;
   * send them in order):
   *  - adds and/or a metadata change: one commit (ts-mls gives it no UpdatePath);
   *  - nothing: one path-only commit (a key update);
   *  - removals: first a commit with the Removes alone, then — when ts-mls left the UpdatePath out
   *    (it does for a single Remove) — a path-only commit that takes the group to keys the removed
   *    cannot derive, then the adds and metadata, if any.
   *  - in an exposed epoch (entered by someone else's path-less removal), adds and metadata changes
   *    are preceded by a path-only commit.
   * Adds and metadata never share a commit with an UpdatePath: ts-mls 2.0.0-rc.10 encrypts the path
   * secrets of such a commit to keys or a GroupContext the receivers do not use (it computes the
   * copath resolution on the tree with the new leaves but encrypts to the old tree's nodes, and uses
   * the GroupContext without the proposed extensions), so other members could not process it. And
   * putting the adds last means the Welcome is for the final epoch — joiners need none of the other
   * commits — and never for an epoch a just-removed member can derive.
   */
  async commit(
    state: GroupState,
    changes: GroupChanges,
  ): Promise<{ state: GroupState; commits: Uint8Array[]; welcome?: Uint8Array; added: Member[] }> {
    // A key reset needs a leaf with a new credential: only Rfc9420Engine makes one.
    if (changes.device !== undefined) fail("this engine cannot replace our leaf's keys");
    const inner = this.inner(state);
    const client = inner.client;
    const own = client.privatePath.leafIndex;
    const removes = changes.remove ?? [];
    for (const i of removes) {
      if (i === own) fail("cannot remove our own leaf with a commit of our own");
      if (!Number.isInteger(i) || i < 0 || leafAt(client.ratchetTree, i) === undefined)
        fail(`no member at leaf ${i}`);
    }
    if (new Set(removes).size !== removes.length) fail("duplicate leaf index");
    const kps = await this.keyPackagesToAdd(changes.add ?? []);
    const metadata = changes.metadata;
    if (metadata !== undefined) {
      // RFC 9420 §12.1.7: every member must support every GroupContext extension. ts-mls checks this
      // for its own extension types only.
      const removed = new Set(removes);
      for (let i = 0; i * 2 < client.ratchetTree.length; i++) {
        const leaf = leafAt(client.ratchetTree, i);
        if (leaf !== undefined && !removed.has(i) && !supportsMetadata(leaf))
          fail(`cannot set group metadata: the member at leaf ${i} does not support it`);
      }
      for (const kp of kps)
        if (!supportsMetadata(kp.leafNode))
          fail("cannot add member: KeyPackage does not support group metadata");
    }

    const addProposals: Proposal[] = kps.map((kp) => ({
      proposalType: defaultProposalTypes.add,
      add: { keyPackage: kp },
    }));
    const removeProposals: Proposal[] = removes.map((removed) => ({
      proposalType: defaultProposalTypes.remove,
      remove: { removed },
    }));

    let current = client;
    let exposed = inner.exposed;
    let welcome: MlsWelcomeMessage | undefined;
    const commits: Uint8Array[] = [];
    const consumed: Uint8Array[] = [];
    const run = async (proposals: Proposal[], what: string) => {
      const r = await this.createCommit(current, what, proposals);
      const withPath = committedWithPath(current.ratchetTree, r.newState.ratchetTree, own);
      commits.push(encode(mlsMessageEncoder, r.commit));
      consumed.push(...r.consumed);
      current = r.newState;
      welcome = r.welcome;
      // Without a path the new epoch follows from the old one's keys: exposure carries over.
      if (withPath) exposed = false;
      return withPath;
    };
    const heal = async (what: string) => {
      if (!(await run([], what))) fail("ts-mls made no UpdatePath");
    };
    const withMetadata = () => (metadata === undefined ? [] : [metadataProposal(current, metadata)]);

    if (exposed && (kps.length > 0 || metadata !== undefined)) await heal("refresh keys before the change");
    if (removes.length > 0) {
      // ts-mls 2.0.0-rc.10 puts an UpdatePath only into commits with two or more Removes.
      if (!(await run(removeProposals, "remove members"))) {
        exposed = true;
        // The removed members can derive this epoch. Move on at once to one they cannot.
        await heal("refresh keys after removal");
      }
    }
    if (kps.length > 0 || metadata !== undefined) {
      if (await run([...addProposals, ...withMetadata()], describeChanges({ ...changes, remove: [] }))) {
        // See above: ts-mls would encrypt such a path so that the other members could not open it.
        fail("ts-mls made an UpdatePath for a commit with adds or a metadata change");
      }
    } else if (removes.length === 0) {
      if (!(await run([], "update keys"))) fail("ts-mls made no UpdatePath");
    }
    if (kps.length > 0 && welcome === undefined) fail("ts-mls made no Welcome for the added members");

    const tree = current.ratchetTree;
    const added = kps.map((kp) => {
      const m = memberBySignatureKey(tree, kp.leafNode.signaturePublicKey);
      if (m === undefined) fail("added member not found in the new tree");
      return m;
    });
    const out = {
      state: wrap(current, exposed),
      commits,
      ...(kps.length > 0 && welcome !== undefined ? { welcome: encode(mlsMessageEncoder, welcome) } : {}),
      added,
    };
    this.spend(state, consumed, current);
    return out;
  }

  async addMembers(
    state: GroupState,
    keyPackages: Uint8Array[],
  ): Promise<{ state: GroupState; commit: Uint8Array; welcome: Uint8Array; added: Member[] }> {
    this.refuseIfExposed(this.inner(state), "add members");
    if (keyPackages.length === 0) fail("addMembers needs at least one KeyPackage");
    const r = await this.commit(state, { add: keyPackages });
    if (r.commits.length !== 1 || r.welcome === undefined) fail("adding members made more than one commit");
    return { state: r.state, commit: r.commits[0]!, welcome: r.welcome, added: r.added };
  }

  async removeMembers(
    state: GroupState,
    leafIndexes: number[],
  ): Promise<{ state: GroupState; commits: Uint8Array[] }> {
    if (leafIndexes.length === 0) fail("removeMembers needs at least one leaf index");
    const r = await this.commit(state, { remove: leafIndexes });
    return { state: r.state, commits: r.commits };
  }

  async updateKeys(state: GroupState): Promise<{ state: GroupState; commit: Uint8Array }> {
    const r = await this.commit(state, {});
    if (r.commits.length !== 1) fail("a key update made more than one commit");
    return { state: r.state, commit: r.commits[0]! };
  }

  async joinFromWelcome(welcome: Uint8Array, keyPackage: KeyPackageBundle): Promise<GroupState> {
    const message = this.decodeMessage(welcome, "Welcome");
    if (message.wireformat !== wireformats.mls_welcome) {
      fail(`expected a Welcome, got ${WIRE_KINDS[message.wireformat] ?? "unknown"} message`);
    }
    const { keyPackage: kp, privateKeys } = this.openBundle(keyPackage);
    // RFC 9420 §12.4.3.1: the Welcome's cipher suite must be the KeyPackage's. ts-mls 2.0.0-rc.10
    // does not compare them (a Welcome with another suite id joined).
    if (message.welcome.cipherSuite !== kp.cipherSuite) {
      fail(`Welcome for cipher suite ${message.welcome.cipherSuite}, KeyPackage for ${kp.cipherSuite}`);
    }
    // Joining checks two signatures per member (the leaf's, and the Parley certificate in its
    // credential) — thousands for a large group — and ts-mls awaits them one by one. Here every check
    // is started as ts-mls reaches it and collected before the state is returned (a provider with
    // asynchronous checks could run them side by side): ts-mls sees "valid" while it goes on, and if
    // any check fails the join fails as if ts-mls had stopped at it. joinGroup has no side effects,
    // so nothing escapes meanwhile.
    const checks: Promise<boolean>[] = [];
    const defer = (check: Promise<boolean>) => {
      checks.push(check.catch(() => false));
      return Promise.resolve(true);
    };
    const suite = await this.suite();
    const signature: Signature = {
      ...suite.signature,
      verify: (publicKey, data, sig) => defer(suite.signature.verify(publicKey, data, sig)),
    };
    const authService: AuthenticationService = {
      validateCredential: (credential, key) => defer(this.authService.validateCredential(credential, key)),
    };
    let client: ClientState;
    try {
      // No ratchetTree argument: it must come from the GroupInfo's ratchet_tree extension, and ts-mls
      // validates every leaf of it (signatures, parent hashes, tree hash, our authentication service).
      client = await joinGroup({
        context: { cipherSuite: { ...suite, signature }, authService },
        welcome: message.welcome,
        keyPackage: kp,
        privateKeys,
      });
    } catch (e) {
      await Promise.all(checks);
      fail("cannot join from Welcome", e);
    }
    const results = await Promise.all(checks);
    if (results.includes(false)) {
      fail("cannot join from Welcome: a signature or credential in the group does not verify");
    }
    return wrap(client, false);
  }

  async encrypt(
    state: GroupState,
    plaintext: Uint8Array,
  ): Promise<{ state: GroupState; message: Uint8Array }> {
    const inner = this.inner(state);
    this.refuseIfExposed(inner, "encrypt");
    let result: Awaited<ReturnType<typeof createApplicationMessage>>;
    try {
      result = await createApplicationMessage({
        context: await this.context(),
        state: inner.client,
        message: plaintext,
      });
    } catch (e) {
      fail("cannot encrypt", e);
    }
    const out = { state: wrap(result.newState, false), message: encode(mlsMessageEncoder, result.message) };
    this.spend(state, result.consumed, result.newState);
    return out;
  }

  /** A PrivateMessage of this group (not from the future), decoded, with its epoch's secrets and tree. */
  private openPrivateMessage(client: ClientState, message: Uint8Array) {
    const decoded = this.decodeMessage(message, "incoming message");
    if (decoded.wireformat !== wireformats.mls_private_message) {
      fail(
        `rejected: ${WIRE_KINDS[decoded.wireformat] ?? "unknown"} message where only PrivateMessages are accepted`,
      );
    }
    const pm = decoded.privateMessage;
    const current = client.groupContext.epoch;
    if (!equalBytes(pm.groupId, client.groupContext.groupId)) fail("rejected: message for another group");
    if (pm.epoch > current) throw new MlsFutureEpochError(pm.epoch, current);
    // The epoch's sender data secret and tree: the current ones, or those kept for a recent epoch.
    if (pm.epoch === current) {
      return { decoded, pm, senderDataSecret: client.keySchedule.senderDataSecret, tree: client.ratchetTree };
    }
    const old = client.historicalReceiverData.get(pm.epoch);
    if (old === undefined) fail(`rejected: message from epoch ${pm.epoch}, whose keys are no longer kept`);
    return { decoded, pm, senderDataSecret: old.senderDataSecret, tree: old.ratchetTree };
  }

  async senderOf(state: GroupState, message: Uint8Array): Promise<number | undefined> {
    const client = this.client(state);
    try {
      const { pm, senderDataSecret } = this.openPrivateMessage(client, message);
      return (await decryptSenderData(await this.suite(), senderDataSecret, pm)).leafIndex;
    } catch {
      return undefined;
    }
  }

  async process(state: GroupState, message: Uint8Array, policy?: CommitPolicy): Promise<IncomingMessage> {
    const inner = this.inner(state);
    const client = inner.client;
    const { decoded, pm, senderDataSecret, tree } = this.openPrivateMessage(client, message);
    const current = client.groupContext.epoch;
    if (pm.contentType === contentTypes.proposal)
      fail("rejected: standalone proposals are not used in Parley");
    if (pm.contentType === contentTypes.commit && pm.epoch !== current) {
      fail(`rejected: commit for epoch ${pm.epoch}, we are at epoch ${current}`);
    }

    const suite = await this.suite();
    let senderLeaf: number;
    let generation: number;
    try {
      ({ leafIndex: senderLeaf, generation } = await decryptSenderData(suite, senderDataSecret, pm));
    } catch (e) {
      fail("rejected: sender data", e);
    }
    const sender = memberAt(tree, senderLeaf);
    if (sender === undefined) fail(`rejected: sender data names leaf ${senderLeaf}, which is empty`);
    if (senderLeaf === client.privatePath.leafIndex) fail("rejected: a message from our own leaf");

    // Called by ts-mls once it has decrypted the commit and validated its proposals, before it applies
    // anything: Parley's own rules, then the caller's policy. A rejection leaves `state` as it was.
    let commit: (ProposedCommit & { senderLeafIndex: number | undefined }) | undefined;
    let rejection: string | undefined;
    const callback: IncomingMessageCallback = (incoming) => {
      if (incoming.kind !== "commit") {
        rejection = "rejected: not a commit";
        return "reject";
      }
      try {
        const proposed = proposedCommit(state, client, incoming.senderLeafIndex, incoming.proposals);
        if (typeof proposed === "string") {
          rejection = `rejected: ${proposed}`;
          return "reject";
        }
        const reason = policy?.(proposed);
        if (reason !== undefined) {
          rejection = `commit rejected: ${reason}`;
          return "reject";
        }
        commit = { ...proposed, senderLeafIndex: incoming.senderLeafIndex };
        return "accept";
      } catch (e) {
        rejection = `commit rejected: the policy failed: ${describe(e)}`;
        return "reject";
      }
    };
    let result: Awaited<ReturnType<typeof processMessage>>;
    try {
      result = await processMessage({
        context: await this.context(),
        state: client,
        message: decoded,
        callback,
      });
    } catch (e) {
      fail(
        pm.contentType === contentTypes.application
          ? "cannot decrypt application message"
          : "cannot process commit",
        e,
      );
    }

    if (result.kind === "applicationMessage") {
      const next = wrap(result.newState, inner.exposed);
      const out: IncomingMessage = {
        kind: "application",
        state: next,
        plaintext: result.message,
        sender,
        epoch: pm.epoch,
        generation,
      };
      this.spend(state, result.consumed, result.newState);
      return out;
    }
    if (rejection !== undefined) fail(rejection);
    if (commit === undefined || result.actionTaken !== "accept") fail("rejected: not a commit");
    if (commit.senderLeafIndex !== senderLeaf) fail("rejected: commit sender does not match its sender data");

    const newTree = result.newState.ratchetTree;
    const added: Member[] = [];
    for (const m of commit.added) {
      const now = memberBySignatureKey(newTree, m.deviceKey);
      if (now !== undefined) added.push(now);
    }
    const removed = commit.removed;
    // Without a path the new epoch's keys follow from the old epoch's alone: whoever was removed, in
    // this commit or in an earlier path-less one, can still derive them.
    const withPath = committedWithPath(client.ratchetTree, newTree, senderLeaf);
    const exposed = !withPath && (removed.length > 0 || inner.exposed);
    const next = wrap(result.newState, exposed);
    const out: IncomingMessage =
      result.newState.groupActiveState.kind === "removedFromGroup"
        ? { kind: "removed", state: next, sender }
        : {
            kind: "commit",
            state: next,
            sender,
            added,
            removed,
            ...(commit.metadata !== undefined ? { metadata: commit.metadata } : {}),
          };
    this.spend(state, result.consumed, result.newState);
    return out;
  }

  usable(state: GroupState): boolean {
    return !spent.has(state);
  }

  /** Its states are stored whole: nothing to note. */
  stored(_state: GroupState, _saved: SerializedGroupState): void {}

  members(state: GroupState): Member[] {
    return membersOf(this.client(state, true).ratchetTree);
  }

  ownLeafIndex(state: GroupState): number {
    return this.client(state, true).privatePath.leafIndex;
  }

  serialize(state: GroupState): SerializedGroupState {
    const inner = this.inner(state);
    try {
      return encodeGroupState(inner.client, { exposed: inner.exposed });
    } catch (e) {
      fail("cannot serialize group state", e);
    }
  }

  deserialize(serialized: SerializedGroupState): GroupState {
    try {
      const { client, exposed } = decodeGroupState(serialized);
      return wrap(client, exposed);
    } catch (e) {
      fail("cannot load group state", e);
    }
  }
}
