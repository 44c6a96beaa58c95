/**
 * A member's state of one epoch of a group, RFC 9420 §8–§9 (what a member keeps between messages):
 * the GroupContext, the ratchet tree with our private keys, the epoch's secrets and secret tree, the
 * interim transcript hash, the proposals received this epoch (by ProposalRef, §12.1) and recent
 * resumption PSKs (§8.6, keyed by epoch).
 *
 * States are values: every operation returns a new state and leaves its input usable, and shares
 * the unchanged parts of the tree with it (RatchetTree.fork), so a failed operation changes nothing.
 */
import { equalBytes } from "../../encoding/bytes.js";
import { fail } from "./errors.js";
import type { Sender } from "./framing.js";
import type { GroupContext } from "./group-context.js";
import { encodeGroupContext } from "./group-context.js";
import type { EpochSecrets } from "./key-schedule.js";
import type { Proposal } from "./proposals.js";
import { type PreSharedKeyId, PskType } from "./psk.js";
import type { RatchetTree } from "./ratchet-tree.js";
import type { SecretTree } from "./secret-tree.js";
import type { Suite } from "./suite.js";
import type { PathKeys } from "./treekem.js";

export interface CachedProposal {
  proposal: Proposal;
  sender: Sender;
  ref: Uint8Array;
}

/** External PSKs the application knows, by psk_id (§8.4). */
export type ExternalPskLookup = (pskId: Uint8Array) => Uint8Array | undefined;

export interface GroupState {
  readonly suite: Suite;
  readonly context: GroupContext;
  readonly tree: RatchetTree;
  readonly myLeaf: number;
  readonly signKey: Uint8Array;
  readonly keys: PathKeys;
  readonly secrets: EpochSecrets;
  readonly secretTree: SecretTree;
  readonly interimTranscriptHash: Uint8Array;
  /** Proposals received in this epoch, by hex ProposalRef. */
  readonly proposals: ReadonlyMap<string, CachedProposal>;
  /** resumption_psk of recent epochs of this group (the current one included). */
  readonly resumptionPsks: ReadonlyMap<bigint, Uint8Array>;
  readonly externalPsks: ExternalPskLookup;
}

/** How many past epochs' resumption PSKs are kept. */
export const RESUMPTION_PSK_EPOCHS = 16;

export const contextBytes = (s: GroupState): Uint8Array => encodeGroupContext(s.context);

/** §8.4: the PSK values for `ids`, from the application's external PSKs and our resumption PSKs. */
export function resolvePsks(
  s: Pick<GroupState, "externalPsks" | "resumptionPsks" | "context">,
  ids: readonly PreSharedKeyId[],
): { id: PreSharedKeyId; psk: Uint8Array }[] {
  return ids.map((id) => {
    let psk: Uint8Array | undefined;
    if (id.type === PskType.external) psk = s.externalPsks(id.pskId);
    else if (equalBytes(id.groupId, s.context.groupId)) psk = s.resumptionPsks.get(id.epoch);
    if (psk === undefined)
      fail(
        "unknown-psk",
        id.type === PskType.external ? "external PSK not known" : "resumption PSK not kept",
      );
    return { id, psk };
  });
}

export function withResumptionPsk(
  map: ReadonlyMap<bigint, Uint8Array>,
  epoch: bigint,
  psk: Uint8Array,
): Map<bigint, Uint8Array> {
  const out = new Map(map);
  out.set(epoch, psk);
  for (const e of out.keys()) if (e + BigInt(RESUMPTION_PSK_EPOCHS) <= epoch) out.delete(e);
  return out;
}
