/**
 * The group state of the epoch a commit starts (RFC 9420 §8, §9, §8.2), built the same way by the
 * committer (create-commit.ts) and by every member that processes the commit (process-commit.ts),
 * so both sides cannot drift apart:
 *
 *   secret_tree            = SecretTree(encryption_secret, leaf_count)            (§9)
 *   interim_transcript_hash = Hash(confirmed_transcript_hash ‖ InterimTranscriptHashInput(confirmation_tag))  (§8.2)
 *   proposals               = {} (the commit consumed them)
 *   resumption PSKs          += (epoch, resumption_psk)                             (§8.6)
 */
import type { GroupContext } from "./group-context.js";
import { type GroupState, withResumptionPsk } from "./group-state.js";
import type { EpochSecrets } from "./key-schedule.js";
import type { RatchetTree } from "./ratchet-tree.js";
import { SecretTree } from "./secret-tree.js";
import type { Suite } from "./suite.js";
import { interimTranscriptHash } from "./transcript-hash.js";

export async function nextEpochState(
  suite: Suite,
  state: GroupState,
  next: {
    context: GroupContext;
    tree: RatchetTree;
    keys: GroupState["keys"];
    secrets: EpochSecrets;
    confirmedTranscriptHash: Uint8Array;
    confirmationTag: Uint8Array;
  },
): Promise<GroupState> {
  return {
    ...state,
    context: next.context,
    tree: next.tree,
    keys: next.keys,
    secrets: next.secrets,
    secretTree: SecretTree.create(suite, next.secrets.encryptionSecret, next.tree.leafCount),
    interimTranscriptHash: await interimTranscriptHash(
      suite,
      next.confirmedTranscriptHash,
      next.confirmationTag,
    ),
    proposals: new Map(),
    resumptionPsks: withResumptionPsk(state.resumptionPsks, next.context.epoch, next.secrets.resumptionPsk),
  };
}
