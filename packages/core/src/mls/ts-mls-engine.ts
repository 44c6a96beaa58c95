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
 *  - A failed operation spends nothing and changes nothing: the input state stays valid.
 *  - Every ts-mls error becomes an MlsProcessingError whose message says what was being done.
 */
import {
  type AuthenticationService,
  type CiphersuiteImpl,
  type ClientState,
  contentTypes,
  createApplicationMessage,
  createCommit,
  createGroup,
  defaultProposalTypes,
  encode,
  generateKeyPackageWithKey,
  type IncomingMessageCallback,
  joinGroup,
  type KeyPackage,
  type LeafNode,
  type MlsContext,
  type MlsMessage,
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
  wireformats,
  zeroOutUint8Array,
} from "ts-mls";
import { type CryptoProvider, DEFAULT_MLS_CIPHERSUITE } from "../crypto/provider.js";
import { equalBytes } from "../encoding/bytes.js";
import {
  deviceCredentialOf,
  deviceMlsCredential,
  ParleyAuthenticationService,
} from "../identity/credential.js";
import type { DeviceIdentity } from "../identity/device.js";
import {
  type GroupState,
  type IncomingMessage,
  type KeyPackageBundle,
  type Member,
  type MlsEngine,
  MlsProcessingError,
  type SerializedGroupState,
  type WireKind,
} from "./engine.js";
import { validateKeyPackage } from "./key-package.js";
import { decryptSenderData } from "./sender-data.js";
import { decodeGroupState, encodeGroupState } from "./state-codec.js";

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

export class TsMlsEngine implements MlsEngine {
  readonly ciphersuite = DEFAULT_MLS_CIPHERSUITE;
  readonly authService: AuthenticationService;
  private suitePromise: Promise<CiphersuiteImpl> | undefined;

  /** `crypto` supplies the MLS suite (its `mlsCiphersuite()`) and verifies device certificates. */
  constructor(private readonly crypto: CryptoProvider) {
    this.authService = new ParleyAuthenticationService(crypto);
  }

  private suite(): Promise<CiphersuiteImpl> {
    this.suitePromise ??= this.crypto.mlsCiphersuite(this.ciphersuite);
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

  async createKeyPackage(device: DeviceIdentity): Promise<KeyPackageBundle> {
    const suite = await this.suite();
    const credential = deviceMlsCredential(device);
    if (!(await this.authService.validateCredential(credential, device.deviceKey))) {
      fail("device certificate does not verify for this device key");
    }
    const { publicPackage, privatePackage } = await generateKeyPackageWithKey({
      credential,
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
  ): Promise<GroupState> {
    const { keyPackage: kp, privateKeys } = this.openBundle(keyPackage);
    if (!equalBytes(kp.leafNode.signaturePublicKey, device.deviceKey)) {
      fail("the KeyPackage is not this device's");
    }
    try {
      const context = await this.context();
      return wrap(
        await createGroup({ context, groupId, keyPackage: kp, privateKeyPackage: privateKeys }),
        false,
      );
    } catch (e) {
      fail("cannot create group", e);
    }
  }

  /** createCommit with Parley's options (PrivateMessage, tree in the Welcome), errors mapped. */
  private async commit(client: ClientState, what: string, extraProposals: Proposal[]) {
    try {
      return await createCommit({
        context: await this.context(),
        state: client,
        extraProposals,
        ratchetTreeExtension: true,
        wireAsPublicMessage: false,
      });
    } catch (e) {
      fail(`cannot ${what}`, e);
    }
  }

  async addMembers(
    state: GroupState,
    keyPackages: Uint8Array[],
  ): Promise<{ state: GroupState; commit: Uint8Array; welcome: Uint8Array; added: Member[] }> {
    const inner = this.inner(state);
    this.refuseIfExposed(inner, "add members");
    if (keyPackages.length === 0) fail("addMembers needs at least one KeyPackage");
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
    const proposals: Proposal[] = kps.map((kp) => ({
      proposalType: defaultProposalTypes.add,
      add: { keyPackage: kp },
    }));
    const result = await this.commit(inner.client, "add members", proposals);
    if (result.welcome === undefined) fail("ts-mls made no Welcome for the added members");
    const tree = result.newState.ratchetTree;
    const added = kps.map((kp) => {
      const m = memberBySignatureKey(tree, kp.leafNode.signaturePublicKey);
      if (m === undefined) fail("added member not found in the new tree");
      return m;
    });
    const out = {
      state: wrap(result.newState, false),
      commit: encode(mlsMessageEncoder, result.commit),
      welcome: encode(mlsMessageEncoder, result.welcome),
      added,
    };
    this.spend(state, result.consumed, result.newState);
    return out;
  }

  async removeMembers(
    state: GroupState,
    leafIndexes: number[],
  ): Promise<{ state: GroupState; commits: Uint8Array[] }> {
    const client = this.client(state);
    if (leafIndexes.length === 0) fail("removeMembers needs at least one leaf index");
    const own = client.privatePath.leafIndex;
    for (const i of leafIndexes) {
      if (i === own) fail("cannot remove our own leaf with a commit of our own");
      if (!Number.isInteger(i) || i < 0 || leafAt(client.ratchetTree, i) === undefined)
        fail(`no member at leaf ${i}`);
    }
    if (new Set(leafIndexes).size !== leafIndexes.length) fail("duplicate leaf index");
    const removals: Proposal[] = leafIndexes.map((removed) => ({
      proposalType: defaultProposalTypes.remove,
      remove: { removed },
    }));
    const first = await this.commit(client, "remove members", removals);
    const commits = [encode(mlsMessageEncoder, first.commit)];
    let next = first.newState;
    const consumed = [...first.consumed];
    if (!committedWithPath(client.ratchetTree, next.ratchetTree, own)) {
      // ts-mls left the UpdatePath out (it does for a single Remove): the removed members can derive
      // the new epoch. Move on at once to an epoch they cannot: a commit with a fresh path.
      const second = await this.commit(next, "refresh keys after removal", []);
      if (!committedWithPath(next.ratchetTree, second.newState.ratchetTree, own))
        fail("ts-mls made no UpdatePath");
      commits.push(encode(mlsMessageEncoder, second.commit));
      consumed.push(...second.consumed);
      next = second.newState;
    }
    const out = { state: wrap(next, false), commits };
    this.spend(state, consumed, next);
    return out;
  }

  async updateKeys(state: GroupState): Promise<{ state: GroupState; commit: Uint8Array }> {
    const client = this.client(state);
    const result = await this.commit(client, "update keys", []);
    if (!committedWithPath(client.ratchetTree, result.newState.ratchetTree, client.privatePath.leafIndex)) {
      fail("ts-mls made no UpdatePath");
    }
    const out = { state: wrap(result.newState, false), commit: encode(mlsMessageEncoder, result.commit) };
    this.spend(state, result.consumed, result.newState);
    return out;
  }

  async joinFromWelcome(welcome: Uint8Array, keyPackage: KeyPackageBundle): Promise<GroupState> {
    const message = this.decodeMessage(welcome, "Welcome");
    if (message.wireformat !== wireformats.mls_welcome) {
      fail(`expected a Welcome, got ${WIRE_KINDS[message.wireformat] ?? "unknown"} message`);
    }
    const { keyPackage: kp, privateKeys } = this.openBundle(keyPackage);
    try {
      // No ratchetTree argument: it must come from the GroupInfo's ratchet_tree extension, and ts-mls
      // validates every leaf of it (signatures, parent hashes, tree hash, our authentication service).
      const context = await this.context();
      return wrap(await joinGroup({ context, welcome: message.welcome, keyPackage: kp, privateKeys }), false);
    } catch (e) {
      fail("cannot join from Welcome", e);
    }
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

  async process(state: GroupState, message: Uint8Array): Promise<IncomingMessage> {
    const inner = this.inner(state);
    const client = inner.client;
    const decoded = this.decodeMessage(message, "incoming message");
    if (decoded.wireformat !== wireformats.mls_private_message) {
      fail(
        `rejected: ${WIRE_KINDS[decoded.wireformat] ?? "unknown"} message where only PrivateMessages are accepted`,
      );
    }
    const pm = decoded.privateMessage;
    const current = client.groupContext.epoch;
    if (!equalBytes(pm.groupId, client.groupContext.groupId)) fail("rejected: message for another group");
    if (pm.epoch > current)
      fail(`rejected: message from future epoch ${pm.epoch} (we are at epoch ${current})`);
    if (pm.contentType === contentTypes.proposal)
      fail("rejected: standalone proposals are not used in Parley");
    if (pm.contentType === contentTypes.commit && pm.epoch !== current) {
      fail(`rejected: commit for epoch ${pm.epoch}, we are at epoch ${current}`);
    }

    // The epoch's sender data secret and tree: the current ones, or those kept for a recent epoch.
    let senderDataSecret: Uint8Array;
    let tree: RatchetTree;
    if (pm.epoch === current) {
      senderDataSecret = client.keySchedule.senderDataSecret;
      tree = client.ratchetTree;
    } else {
      const old = client.historicalReceiverData.get(pm.epoch);
      if (old === undefined) fail(`rejected: message from epoch ${pm.epoch}, whose keys are no longer kept`);
      senderDataSecret = old.senderDataSecret;
      tree = old.ratchetTree;
    }

    const suite = await this.suite();
    let senderLeaf: number;
    try {
      senderLeaf = (await decryptSenderData(suite, senderDataSecret, pm)).leafIndex;
    } catch (e) {
      fail("rejected: sender data", e);
    }
    const sender = memberAt(tree, senderLeaf);
    if (sender === undefined) fail(`rejected: sender data names leaf ${senderLeaf}, which is empty`);
    if (senderLeaf === client.privatePath.leafIndex) fail("rejected: a message from our own leaf");

    let commit: { senderLeafIndex: number | undefined; proposals: ProposalWithSender[] } | undefined;
    const callback: IncomingMessageCallback = (incoming) => {
      if (incoming.kind === "commit") {
        commit = { senderLeafIndex: incoming.senderLeafIndex, proposals: incoming.proposals };
        return "accept";
      }
      return "reject";
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
      const out: IncomingMessage = { kind: "application", state: next, plaintext: result.message, sender };
      this.spend(state, result.consumed, result.newState);
      return out;
    }
    if (commit === undefined || result.actionTaken !== "accept") fail("rejected: not a commit");
    if (commit.senderLeafIndex !== senderLeaf) fail("rejected: commit sender does not match its sender data");

    const newTree = result.newState.ratchetTree;
    const added: Member[] = [];
    const removed: Member[] = [];
    for (const { proposal } of commit.proposals) {
      if (proposal.proposalType === defaultProposalTypes.add && "add" in proposal) {
        const m = memberBySignatureKey(newTree, proposal.add.keyPackage.leafNode.signaturePublicKey);
        if (m !== undefined) added.push(m);
      } else if (proposal.proposalType === defaultProposalTypes.remove && "remove" in proposal) {
        const m = memberAt(client.ratchetTree, proposal.remove.removed);
        if (m !== undefined) removed.push(m);
      }
    }
    // Without a path the new epoch's keys follow from the old epoch's alone: whoever was removed, in
    // this commit or in an earlier path-less one, can still derive them.
    const withPath = committedWithPath(client.ratchetTree, newTree, senderLeaf);
    const exposed = !withPath && (removed.length > 0 || inner.exposed);
    const next = wrap(result.newState, exposed);
    const out: IncomingMessage =
      result.newState.groupActiveState.kind === "removedFromGroup"
        ? { kind: "removed", state: next, sender }
        : { kind: "commit", state: next, sender, added, removed };
    this.spend(state, result.consumed, result.newState);
    return out;
  }

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
