/**
 * MlsEngine on Parley's own RFC 9420 engine (../rfc9420/), cipher suites 1 and X-Wing (0xF00D, for
 * post-quantum groups: a group's suite is its creator's KeyPackage's), with the primitives of a
 * Parley CryptoProvider and Parley's authentication service (device certificates). Observable
 * behaviour matches TsMlsEngine except where ts-mls leaves RFC 9420:
 *
 *  - every change is ONE commit, with an UpdatePath whenever §12.4 requires one (Remove,
 *    GroupContextExtensions, empty commits; also a new device leaf): a removal, adds and a metadata
 *    change go together, and the path secrets are encrypted under the provisional GroupContext with
 *    the new extensions (§12.4.1). So there is no "exposed" epoch: a path-less removal or extension
 *    change is refused on receipt (§12.4.2, path-required). A commit of adds only has no path (one
 *    Welcome seal per joiner instead of ~N/2 path seals);
 *  - KeyPackages list their GREASE extensions in their capabilities (§13.5 with §7.3), and KeyPackages
 *    or trees that do not are refused.
 *
 * Shared with TsMlsEngine: PrivateMessage only (never a PublicMessage, never a standalone proposal);
 * Welcomes carry the tree in the encrypted GroupInfo; every leaf that enters is checked against
 * ParleyAuthenticationService; required_capabilities on new groups; the CommitPolicy and Parley's
 * proposal rules decide before a received commit takes effect; late application messages of the last
 * PAST_EPOCHS epochs open, messages of later epochs throw MlsFutureEpochError; used secrets are zeroed
 * and the spent input state refused; a failed operation changes nothing.
 */

import {
  type CryptoProvider,
  DEFAULT_MLS_CIPHERSUITE,
  MLS_CIPHERSUITE_IDS,
  type MlsCiphersuiteName,
  PQ_MLS_CIPHERSUITE,
} from "../../crypto/provider.js";
import { equalBytes } from "../../encoding/bytes.js";
import type { AuthenticationService } from "../../identity/credential.js";
import { deviceMlsCredential, ParleyAuthenticationService } from "../../identity/credential.js";
import type { DeviceIdentity } from "../../identity/device.js";
import {
  type CommitPolicy,
  type EncryptOptions,
  type GroupChanges,
  type GroupState,
  type IncomingMessage,
  type KeyPackageBundle,
  type KeyPackageOptions,
  type Member,
  type MlsEngine,
  MlsProcessingError,
  type SerializedGroupState,
} from "../engine.js";
import { createApplicationMessage } from "../rfc9420/application-message.js";
import { createCommit } from "../rfc9420/create-commit.js";
import { createGroup } from "../rfc9420/create-group.js";
import { CredentialType } from "../rfc9420/credential.js";
import { ContentType, WireFormat } from "../rfc9420/framing.js";
import { joinFromWelcome } from "../rfc9420/join-welcome.js";
import type { KeyPackage } from "../rfc9420/key-package.js";
import { mlsExporter } from "../rfc9420/key-schedule.js";
import { encodeMlsMessage } from "../rfc9420/mls-message.js";
import { processMessage } from "../rfc9420/process-message.js";
import type { Suite } from "../rfc9420/suite.js";
import { decryptSenderData } from "../sender-data.js";
import { acceptCommit, openPrivateMessage } from "./incoming.js";
import {
  checkKeyPackage,
  createKeyPackage,
  decodeKeyPackage,
  decodeMlsMessage,
  memberOfKeyPackage,
  openBundle,
  WIRE_NAMES,
} from "./key-packages.js";
import {
  credentialValid,
  fail,
  memberAt,
  membersOf,
  metadataOf,
  PARLEY_METADATA_EXTENSION,
  PARLEY_REQUIRED_CAPABILITIES,
  supportsMetadata,
} from "./parley-rules.js";
import {
  advance,
  deserializeInner,
  type Inner,
  isSpent,
  markStored,
  rememberEpochPart,
  serializeInner,
  spend,
  storedCipherSuite,
  unwrap,
  wrap,
  zeroAll,
} from "./state.js";

export class Rfc9420Engine implements MlsEngine {
  /** The suite of KeyPackages made without options (so of groups created with them). */
  readonly ciphersuite: MlsCiphersuiteName;
  readonly ciphersuites: readonly MlsCiphersuiteName[] = [DEFAULT_MLS_CIPHERSUITE, PQ_MLS_CIPHERSUITE];
  readonly authService: AuthenticationService;
  private readonly suites = new Map<number, Promise<Suite>>();
  /** Suites at hand, by id: deserialize is synchronous. */
  private readonly loadedSuites = new Map<number, Suite>();

  constructor(
    private readonly crypto: CryptoProvider,
    options: { ciphersuite?: MlsCiphersuiteName } = {},
  ) {
    this.ciphersuite = options.ciphersuite ?? DEFAULT_MLS_CIPHERSUITE;
    this.authService = new ParleyAuthenticationService(crypto);
    // Ready the suites now, so that states loaded later decode with them at once.
    for (const name of this.ciphersuites) this.suite(MLS_CIPHERSUITE_IDS[name]).catch(() => undefined);
  }

  private suite(id: number): Promise<Suite> {
    let p = this.suites.get(id);
    if (p === undefined) {
      const name = this.ciphersuites.find((n) => MLS_CIPHERSUITE_IDS[n] === id);
      if (name === undefined) return Promise.reject(new MlsProcessingError(`unsupported cipher suite ${id}`));
      p = this.crypto.mlsCiphersuite(name).then((s) => {
        this.loadedSuites.set(id, s);
        return s;
      });
      this.suites.set(id, p);
    }
    return p;
  }

  cipherSuiteOf(state: GroupState): MlsCiphersuiteName {
    const id = this.inner(state, true).g.context.cipherSuite;
    return this.ciphersuites.find((n) => MLS_CIPHERSUITE_IDS[n] === id)!;
  }

  /** The state inside `state`, refusing spent states (unless only public data is read) and, for
   * operations, states whose group removed us. */
  private inner(state: GroupState, publicOnly = false): Inner {
    const inner = unwrap(state, publicOnly);
    if (!publicOnly && inner.removed) fail("we were removed from this group");
    return inner;
  }

  /**
   * `inner`, ready to compute with. deserialize is synchronous and the provider hands out its suite
   * asynchronously: a state loaded before the suite was at hand is decoded again here, with it, in
   * place (the same value), and the first decode's copies of the secrets are zeroed.
   */
  private async live(state: GroupState): Promise<Inner> {
    const inner = this.inner(state);
    const stored = pendingLoads.get(inner);
    if (stored === undefined) return inner;
    const real = deserializeInner(
      await this.suite(storedCipherSuite(stored.epochPart)),
      stored.epoch,
      stored,
    );
    pendingLoads.delete(inner);
    zeroAll(inner);
    Object.assign(inner, real);
    rememberEpochPart(inner, stored.epochPart);
    return inner;
  }

  private async checkKeyPackage(kp: KeyPackage): Promise<void> {
    let suite: Suite;
    try {
      suite = await this.suite(kp.cipherSuite);
    } catch (e) {
      fail("invalid KeyPackage", e);
    }
    await checkKeyPackage(suite, this.authService, kp);
  }

  async createKeyPackage(device: DeviceIdentity, options?: KeyPackageOptions): Promise<KeyPackageBundle> {
    const name = options?.cipherSuite ?? this.ciphersuite;
    if (!this.ciphersuites.includes(name)) fail(`unsupported cipher suite ${name}`);
    return createKeyPackage(
      await this.suite(MLS_CIPHERSUITE_IDS[name]),
      this.authService,
      device,
      this.ciphersuites.map((n) => MLS_CIPHERSUITE_IDS[n]),
    );
  }

  async inspectKeyPackage(keyPackage: Uint8Array): Promise<Member> {
    const kp = decodeKeyPackage(keyPackage);
    await this.checkKeyPackage(kp);
    return memberOfKeyPackage(kp);
  }

  async createGroup(
    groupId: Uint8Array,
    device: DeviceIdentity,
    keyPackage: KeyPackageBundle,
    metadata?: Uint8Array,
  ): Promise<GroupState> {
    const { keyPackage: kp, encKey, signKey } = openBundle(keyPackage);
    if (!equalBytes(kp.leafNode.signatureKey, device.deviceKey)) fail("the KeyPackage is not this device's");
    if (!supportsMetadata(kp.leafNode)) fail("the KeyPackage does not support Parley group metadata");
    const extensions = [PARLEY_REQUIRED_CAPABILITIES];
    if (metadata !== undefined) extensions.push({ type: PARLEY_METADATA_EXTENSION, data: metadata.slice() });
    try {
      // The group's suite is the creator's KeyPackage's.
      const g = await createGroup(await this.suite(kp.cipherSuite), {
        groupId: groupId.slice(),
        leaf: kp.leafNode,
        encryptionPrivateKey: encKey,
        signKey,
        extensions,
      });
      return wrap({ g, past: [], removed: false });
    } catch (e) {
      fail("cannot create group", e);
    }
  }

  metadata(state: GroupState): Uint8Array | undefined {
    return metadataOf(this.inner(state, true).g.context.extensions)?.slice();
  }

  async exportSecret(state: GroupState, label: string, context: Uint8Array, length: number) {
    const { g } = await this.live(state);
    return mlsExporter(g.suite, g.secrets.exporterSecret, label, context, length);
  }

  /**
   * One commit with every change (RFC 9420 §12.4): removes, adds and the metadata together, with an
   * UpdatePath unless it only adds. `welcome` when members were added (ratchet tree in its GroupInfo).
   */
  async commit(
    state: GroupState,
    changes: GroupChanges,
  ): Promise<{ state: GroupState; commits: Uint8Array[]; welcome?: Uint8Array; added: Member[] }> {
    const inner = await this.live(state);
    const { g } = inner;
    const removes = changes.remove ?? [];
    for (const i of removes) {
      if (i === g.myLeaf) fail("cannot remove our own leaf with a commit of our own");
      if (!Number.isInteger(i) || i < 0 || g.tree.leaf(i) === undefined) fail(`no member at leaf ${i}`);
    }
    if (new Set(removes).size !== removes.length) fail("duplicate leaf index");
    const kps: KeyPackage[] = (changes.add ?? []).map(decodeKeyPackage);
    // All checked at once: their signature verifications then come as one burst, which the node
    // provider spreads over the thread pool (one at a time, each ran alone on this thread). The
    // error reported is the first KeyPackage's in order, as when they were checked one by one.
    const checked = await Promise.allSettled(kps.map((kp) => this.checkKeyPackage(kp)));
    for (const r of checked) if (r.status === "rejected") fail("cannot add member", r.reason);
    let extensions: typeof g.context.extensions | undefined;
    if (changes.metadata !== undefined) {
      const gone = new Set(removes);
      for (const [i, leaf] of g.tree.nonBlankLeaves())
        if (!gone.has(i) && !supportsMetadata(leaf))
          fail(`cannot set group metadata: the member at leaf ${i} does not support it`);
      const others = g.context.extensions.filter((e) => e.type !== PARLEY_METADATA_EXTENSION);
      extensions = [...others, { type: PARLEY_METADATA_EXTENSION, data: changes.metadata.slice() }];
    }
    const newLeaf = changes.device && (await this.newLeaf(changes.device));
    let made: Awaited<ReturnType<typeof createCommit>>;
    try {
      made = await createCommit(g, {
        ...(newLeaf ? { newLeaf } : {}),
        ...(kps.length > 0 ? { add: kps } : {}),
        ...(removes.length > 0 ? { remove: removes } : {}),
        ...(extensions !== undefined ? { extensions } : {}),
        wireFormat: "private",
      });
    } catch (e) {
      fail(`cannot ${describeChanges(changes)}`, e);
    }
    const next = advance(inner, made.state);
    const out = {
      state: wrap(next),
      commits: [encodeMlsMessage(made.commit)],
      ...(made.welcome !== undefined ? { welcome: encodeMlsMessage(made.welcome) } : {}),
      added: made.applied.added.map((a) => memberAt(made.state.tree, a.leafIndex)!),
    };
    spend(state, next);
    return out;
  }

  /** Our leaf as `device`, refused unless its certificate verifies (what every receiver checks). */
  private async newLeaf(device: DeviceIdentity) {
    const credential = deviceMlsCredential(device);
    if (!(await this.authService.validateCredential(credential, device.deviceKey)))
      fail("device certificate does not verify for this device key");
    return {
      signKey: device.deviceSecretKey.slice(),
      signatureKey: device.deviceKey.slice(),
      credential: { type: CredentialType.basic, identity: credential.identity },
    };
  }

  async addMembers(state: GroupState, keyPackages: Uint8Array[]) {
    if (keyPackages.length === 0) fail("addMembers needs at least one KeyPackage");
    const r = await this.commit(state, { add: keyPackages });
    return { state: r.state, commit: r.commits[0]!, welcome: r.welcome!, added: r.added };
  }

  async removeMembers(state: GroupState, leafIndexes: number[]) {
    if (leafIndexes.length === 0) fail("removeMembers needs at least one leaf index");
    const r = await this.commit(state, { remove: leafIndexes });
    return { state: r.state, commits: r.commits };
  }

  async updateKeys(state: GroupState) {
    const r = await this.commit(state, {});
    return { state: r.state, commit: r.commits[0]! };
  }

  async joinFromWelcome(welcome: Uint8Array, keyPackage: KeyPackageBundle): Promise<GroupState> {
    const m = decodeMlsMessage(welcome, "Welcome");
    if (m.wireFormat !== WireFormat.welcome)
      fail(`expected a Welcome, got ${WIRE_NAMES[m.wireFormat] ?? "unknown"} message`);
    const { keyPackage: kp, initKey, encKey, signKey } = openBundle(keyPackage);
    let suite: Suite;
    try {
      suite = await this.suite(kp.cipherSuite);
    } catch (e) {
      fail("cannot join from Welcome", e);
    }
    let g: Awaited<ReturnType<typeof joinFromWelcome>>;
    try {
      // No tree argument: it must come in the GroupInfo's ratchet_tree extension.
      g = await joinFromWelcome(suite, {
        welcome: m.welcome,
        keyPackage: kp,
        initPrivateKey: initKey,
        encryptionPrivateKey: encKey,
        signPrivateKey: signKey,
        // Every member's device certificate, verified together with the leaf signatures.
        credentialValid: (leaf) => credentialValid(this.authService, leaf),
      });
    } catch (e) {
      fail("cannot join from Welcome", e);
    }
    try {
      membersOf(g.tree);
    } catch (e) {
      fail("cannot join from Welcome", e);
    }
    return wrap({ g, past: [], removed: false });
  }

  async encrypt(
    state: GroupState,
    plaintext: Uint8Array,
    options: EncryptOptions = {},
  ): Promise<{ state: GroupState; message: Uint8Array; generation: number }> {
    const inner = await this.live(state);
    let r: Awaited<ReturnType<typeof createApplicationMessage>>;
    try {
      r = await createApplicationMessage(
        inner.g,
        plaintext,
        options.minGeneration !== undefined ? { minGeneration: options.minGeneration } : {},
      );
    } catch (e) {
      fail("cannot encrypt", e);
    }
    const next: Inner = { ...inner, g: r.state };
    const out = { state: wrap(next), message: encodeMlsMessage(r.message), generation: r.generation };
    spend(state, next);
    return out;
  }

  async senderOf(state: GroupState, message: Uint8Array): Promise<number | undefined> {
    try {
      const { pm, epochState } = openPrivateMessage(await this.live(state), message);
      return (await decryptSenderData(epochState.suite, epochState.secrets.senderDataSecret, pm)).leafIndex;
    } catch {
      return undefined;
    }
  }

  async process(state: GroupState, message: Uint8Array, policy?: CommitPolicy): Promise<IncomingMessage> {
    const inner = await this.live(state);
    const { g } = inner;
    const { m, pm, past, epochState } = openPrivateMessage(inner, message);
    if (pm.contentType === ContentType.proposal)
      fail("rejected: standalone proposals are not used in Parley");
    if (pm.contentType === ContentType.commit && past >= 0)
      fail(`rejected: commit for epoch ${pm.epoch}, we are at epoch ${g.context.epoch}`);
    let senderLeaf: number;
    try {
      senderLeaf = (await decryptSenderData(epochState.suite, epochState.secrets.senderDataSecret, pm))
        .leafIndex;
    } catch (e) {
      fail("rejected: sender data", e);
    }
    const sender = epochState.tree.leaf(senderLeaf) && memberAt(epochState.tree, senderLeaf);
    if (!sender) fail(`rejected: sender data names leaf ${senderLeaf}, which is empty`);
    if (senderLeaf === g.myLeaf) fail("rejected: a message from our own leaf");

    let r: Awaited<ReturnType<typeof processMessage>>;
    try {
      r = await processMessage(epochState, m);
    } catch (e) {
      fail(
        pm.contentType === ContentType.application
          ? "cannot decrypt application message"
          : "cannot process commit",
        e,
      );
    }
    if (r.kind === "application") {
      let next: Inner;
      if (past < 0) next = { ...inner, g: r.state };
      else {
        const kept = [...inner.past];
        kept[past] = { ...kept[past]!, secretTree: r.state.secretTree };
        next = { ...inner, past: kept };
      }
      const out: IncomingMessage = {
        kind: "application",
        state: wrap(next),
        plaintext: r.data,
        sender,
        epoch: pm.epoch,
        generation: r.generation,
      };
      spend(state, next);
      return out;
    }
    if (r.kind !== "commit") fail("rejected: not a commit");
    if (r.committer !== senderLeaf) fail("rejected: commit sender does not match its sender data");
    const proposed = await acceptCommit(this.authService, state, g, senderLeaf, r, policy);

    if (r.removedUs) {
      const next: Inner = { ...inner, removed: true };
      const out: IncomingMessage = { kind: "removed", state: wrap(next), sender };
      spend(state, next);
      return out;
    }
    const next = advance(inner, r.state);
    const out: IncomingMessage = {
      kind: "commit",
      state: wrap(next),
      sender,
      added: r.applied.added.map((a) => memberAt(r.state.tree, a.leafIndex)!),
      removed: proposed.removed,
      ...(proposed.metadata !== undefined ? { metadata: proposed.metadata } : {}),
    };
    spend(state, next);
    return out;
  }

  members(state: GroupState): Member[] {
    return membersOf(this.inner(state, true).g.tree);
  }

  ownLeafIndex(state: GroupState): number {
    return this.inner(state, true).g.myLeaf;
  }

  usable(state: GroupState): boolean {
    return !isSpent(state);
  }

  serialize(state: GroupState): SerializedGroupState {
    const inner = unwrap(state);
    try {
      return { epoch: inner.g.context.epoch, ...serializeInner(inner) };
    } catch (e) {
      fail("cannot serialize group state", e);
    }
  }

  stored(state: GroupState, saved: SerializedGroupState): void {
    const inner = unwrap(state, true);
    if (saved.tree !== undefined && saved.epoch === inner.g.context.epoch) markStored(inner, saved.tree);
  }

  /** Loads a state saved by serialize. (A suite is needed: this is synchronous, so it is made here.) */
  deserialize(serialized: SerializedGroupState): GroupState {
    try {
      const id = storedCipherSuite(serialized.epochPart);
      const suite = this.loadedSuites.get(id);
      const inner = deserializeInner(suite ?? PENDING_SUITE, serialized.epoch, serialized);
      if (suite === undefined) {
        pendingLoads.set(inner, {
          epoch: serialized.epoch,
          epochPart: serialized.epochPart.slice(),
          ratchetPart: serialized.ratchetPart.slice(),
          ...(serialized.tree
            ? { tree: { held: serialized.tree.held, pieces: serialized.tree.pieces.map((p) => p.slice()) } }
            : {}),
        });
        this.suite(id).catch(() => undefined);
      } else rememberEpochPart(inner, serialized.epochPart);
      return wrap(inner);
    } catch (e) {
      fail("cannot load group state", e);
    }
  }
}

/** States loaded before the engine had its suite: decoded again by `live` before any computation. */
const pendingLoads = new WeakMap<Inner, SerializedGroupState>();
/** Stands in for the suite in such a state; never called (only `live` states compute). */
const PENDING_SUITE = {} as Suite;

function describeChanges(changes: GroupChanges): string {
  const what: string[] = [];
  if (changes.add?.length) what.push("add members");
  if (changes.remove?.length) what.push("remove members");
  if (changes.metadata !== undefined) what.push("change the group metadata");
  if (changes.device !== undefined) what.push("replace our leaf's keys");
  return what.length === 0 ? "update keys" : what.join(" and ");
}
