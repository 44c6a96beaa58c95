/**
 * Parley's rules on top of RFC 9420, for Rfc9420Engine (the same rules TsMlsEngine keeps):
 *
 *  - every leaf that enters a group (KeyPackage added, Welcome tree, commit path leaf) carries a
 *    Parley device credential whose certificate verifies for that leaf's signature key;
 *  - groups require PARLEY_METADATA_EXTENSION (required_capabilities) and basic credentials;
 *  - a received commit carries only Add, Remove and GroupContextExtensions proposals, by value, from
 *    its committer; a GroupContextExtensions proposal may change the metadata and nothing else.
 */
import { equalBytes } from "../../encoding/bytes.js";
import {
  type AuthenticationService,
  deviceCredentialOf,
  type MlsCredential,
} from "../../identity/credential.js";
import { type Member, MlsProcessingError, type ProposedCommit } from "../engine.js";
import { PARLEY_METADATA_EXTENSION } from "../group-extensions.js";
import { encodeWith, writeU16List } from "../rfc9420/codec.js";
import { type Credential, CredentialType } from "../rfc9420/credential.js";
import { type Extension, ExtensionType, findExtension } from "../rfc9420/extensions.js";
import type { LeafNode } from "../rfc9420/leaf-node.js";
import type { AppliedProposals } from "../rfc9420/proposal-list.js";
import type { RatchetTree } from "../rfc9420/ratchet-tree.js";

export { PARLEY_METADATA_EXTENSION };

function describe(error: unknown): string {
  if (error instanceof Error) {
    const kind = error.name && error.name !== "Error" ? `${error.name}: ` : "";
    return kind + error.message;
  }
  return String(error);
}

/** Every failure leaves the engine as an MlsProcessingError saying what was being done. */
export function fail(what: string, error?: unknown): never {
  if (error instanceof MlsProcessingError) throw error;
  throw new MlsProcessingError(error === undefined ? what : `${what}: ${describe(error)}`, { cause: error });
}

/** required_capabilities of every Parley group: the metadata extension, basic credentials. */
export const PARLEY_REQUIRED_CAPABILITIES: Extension = {
  type: ExtensionType.requiredCapabilities,
  data: encodeWith((w, _: null) => {
    writeU16List(w, [PARLEY_METADATA_EXTENSION]);
    writeU16List(w, []);
    writeU16List(w, [CredentialType.basic]);
  }, null),
};

export const supportsMetadata = (leaf: LeafNode): boolean =>
  leaf.capabilities.extensions.includes(PARLEY_METADATA_EXTENSION);

export const metadataOf = (extensions: readonly Extension[]): Uint8Array | undefined =>
  findExtension(extensions, PARLEY_METADATA_EXTENSION)?.data;

/** The authentication service's view of a credential (identity/credential.ts MlsCredential). */
function asMlsCredential(c: Credential): MlsCredential {
  if (c.type !== CredentialType.basic) return { credentialType: c.type, certificates: c.certificates };
  return { credentialType: CredentialType.basic, identity: c.identity };
}

/** Whether `leaf` carries a Parley device credential certified for its signature key. */
export function credentialValid(auth: AuthenticationService, leaf: LeafNode): Promise<boolean> {
  return auth.validateCredential(asMlsCredential(leaf.credential), leaf.signatureKey).catch(() => false);
}

export function memberOfLeaf(leafIndex: number, leaf: LeafNode): Member {
  if (leaf.credential.type !== CredentialType.basic) fail(`leaf ${leafIndex} has no Parley credential`);
  let identityKey: Uint8Array;
  try {
    identityKey = deviceCredentialOf(asMlsCredential(leaf.credential)).identityKey;
  } catch (e) {
    fail(`leaf ${leafIndex} has no Parley credential`, e);
  }
  return { leafIndex, identityKey, deviceKey: leaf.signatureKey.slice() };
}

export function memberAt(tree: RatchetTree, leafIndex: number): Member | undefined {
  const leaf = tree.leaf(leafIndex);
  return leaf === undefined ? undefined : memberOfLeaf(leafIndex, leaf);
}

export function membersOf(tree: RatchetTree): Member[] {
  return [...tree.nonBlankLeaves()].map(([i, leaf]) => memberOfLeaf(i, leaf));
}

/**
 * A received, fully verified commit as the policy sees it, or why Parley refuses it whatever the
 * policy says. `oldTree`/`oldExtensions` are the epoch before the commit; `applied` its proposals.
 */
export function proposedCommit(
  before: ProposedCommit["before"],
  oldTree: RatchetTree,
  oldExtensions: readonly Extension[],
  committerLeaf: number,
  applied: AppliedProposals,
): ProposedCommit | string {
  const committer = memberAt(oldTree, committerLeaf);
  if (committer === undefined) return "commit from outside the group";
  if (applied.updated.length > 0) return "Update proposals are not used in Parley";
  if (applied.psks.length > 0) return "PreSharedKey proposals are not used in Parley";
  if (applied.externalInit !== undefined || applied.reinit) return "proposal type is not used in Parley";
  const added = applied.added.map((a) => memberOfLeaf(a.leafIndex, a.keyPackage.leafNode));
  const removed: Member[] = [];
  for (const i of applied.removed) {
    const m = memberAt(oldTree, i);
    if (m === undefined) return `removal of empty leaf ${i}`;
    removed.push(m);
  }
  const out: ProposedCommit = { before, committer, added, removed };
  if (!applied.extensionsChanged) return out;
  const extensions = applied.extensions;
  for (const e of extensions) {
    if (e.type !== PARLEY_METADATA_EXTENSION && e.type !== ExtensionType.requiredCapabilities)
      return `GroupContext extension ${e.type} is not used in Parley`;
  }
  const rcNow = findExtension(extensions, ExtensionType.requiredCapabilities)?.data;
  const rcBefore = findExtension(oldExtensions, ExtensionType.requiredCapabilities)?.data;
  if (!(rcNow === rcBefore || (rcNow && rcBefore && equalBytes(rcNow, rcBefore))))
    return "the commit changes the group's required capabilities";
  const next = metadataOf(extensions);
  const previous = metadataOf(oldExtensions);
  if (next === undefined) return previous === undefined ? out : "the commit removes the group metadata";
  for (const [i, leaf] of applied.tree.nonBlankLeaves())
    if (!supportsMetadata(leaf)) return `the member at leaf ${i} does not support group metadata`;
  if (previous !== undefined && equalBytes(previous, next)) return out;
  return { ...out, metadata: next.slice() };
}
