/**
 * What the Rfc9420Engine checks of an incoming message before it takes effect: that it is a
 * PrivateMessage of this group from the current epoch or one still kept (later epochs are
 * MlsFutureEpochError, for the client to hold), and, for a commit, Parley's rules — every leaf that
 * enters carries a valid device credential, the proposals are ones Parley uses (parley-rules.ts), and
 * the caller's CommitPolicy agrees. Each refusal is an MlsError and changes nothing.
 */

import { equalBytes } from "../../encoding/bytes.js";
import type { AuthenticationService } from "../../identity/credential.js";
import { type CommitPolicy, type GroupState, MlsFutureEpochError } from "../engine.js";
import { WireFormat } from "../rfc9420/framing.js";
import type { GroupState as RfcGroupState } from "../rfc9420/group-state.js";
import type { PrivateMessage } from "../rfc9420/private-message.js";
import type { processMessage } from "../rfc9420/process-message.js";
import { decodeMlsMessage, WIRE_NAMES } from "./key-packages.js";
import { credentialValid, fail, proposedCommit } from "./parley-rules.js";
import type { Inner } from "./state.js";

/** A PrivateMessage of this group, not from the future: its epoch's state (current or kept). */
export function openPrivateMessage(inner: Inner, message: Uint8Array) {
  const m = decodeMlsMessage(message, "incoming message");
  if (m.wireFormat !== WireFormat.privateMessage) {
    fail(
      `rejected: ${WIRE_NAMES[m.wireFormat] ?? "unknown"} message where only PrivateMessages are accepted`,
    );
  }
  const pm: PrivateMessage = m.privateMessage;
  const { g } = inner;
  if (!equalBytes(pm.groupId, g.context.groupId)) fail("rejected: message for another group");
  const current = g.context.epoch;
  if (pm.epoch > current) throw new MlsFutureEpochError(pm.epoch, current);
  if (pm.epoch === current) return { m, pm, past: -1, epochState: g };
  const i = inner.past.findIndex((p) => p.context.epoch === pm.epoch);
  if (i < 0) fail(`rejected: message from epoch ${pm.epoch}, whose keys are no longer kept`);
  const p = inner.past[i]!;
  const epochState = {
    ...g,
    context: p.context,
    tree: p.tree,
    secrets: { ...g.secrets, senderDataSecret: p.senderDataSecret },
    secretTree: p.secretTree,
  };
  return { m, pm, past: i, epochState };
}

type ProcessedCommit = Extract<Awaited<ReturnType<typeof processMessage>>, { kind: "commit" }>;

/** Parley's checks of a commit that processed cleanly, before its new state is used. */
export async function acceptCommit(
  authService: AuthenticationService,
  state: GroupState,
  g: RfcGroupState,
  senderLeaf: number,
  r: ProcessedCommit,
  policy: CommitPolicy | undefined,
): Promise<Exclude<ReturnType<typeof proposedCommit>, string>> {
  // Every leaf that enters must carry a valid Parley credential: the added ones, the committer's.
  const entering = r.applied.added.map((a) => a.keyPackage.leafNode);
  const committerLeaf = r.removedUs ? undefined : r.state.tree.leaf(senderLeaf);
  if (committerLeaf !== undefined) entering.push(committerLeaf);
  const valid = await Promise.all(entering.map((leaf) => credentialValid(authService, leaf)));
  if (valid.includes(false)) fail("rejected: a leaf in the commit has no valid Parley credential");
  let proposed: ReturnType<typeof proposedCommit>;
  try {
    proposed = proposedCommit(state, g.tree, g.context.extensions, senderLeaf, r.applied);
  } catch (e) {
    fail("rejected", e);
  }
  if (typeof proposed === "string") fail(`rejected: ${proposed}`);
  let reason: string | undefined;
  try {
    reason = policy?.(proposed);
  } catch (e) {
    fail(`commit rejected: the policy failed: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (reason !== undefined) fail(`commit rejected: ${reason}`);
  return proposed;
}
