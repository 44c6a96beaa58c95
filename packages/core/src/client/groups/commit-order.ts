/**
 * Commit order (docs/protocol.md, "Commit order"). The relay gives each message of a group's queue
 * a position; for each epoch, the first valid commit in that order wins and every member applies it.
 *
 * So a change we make is not applied when we make it: the commit is kept aside (its next state
 * staged) and published, and it takes effect when its own echo comes back from the queue — applied
 * if nothing took the epoch first, "lost" otherwise (own-echo.ts). A lost change is redone as the
 * user asked for it, on the epoch that won (`plan` checks it again: who is still a member, whether
 * we are still an admin). Welcomes leave only for the commit that won, so an invitee gets exactly
 * one. A command that changes a group waits (`settleGroup`) until its change has won or came to
 * nothing, reading the group's queue meanwhile.
 */
import { toHex } from "../../encoding/bytes.js";
import { ParleyError } from "../../errors.js";
import { RelayError } from "../../relay-client/errors.js";
import {
  type CommitIntent,
  deletePendingCommit,
  groupSents,
  type PendingCommitRecord,
  pendingCommit,
  putPendingCommit,
} from "../../store/group-order.js";
import type { GroupConversationRecord } from "../../store/records.js";
import { b64, unb64 } from "../../store/repository.js";
import { stagedState } from "../../store/staged-state.js";
import { type ClientContext, requireProfile } from "../context.js";
import type { ClientEvent } from "../events.js";
import { runFollowups } from "../followups/run.js";
import type { Followup } from "../followups/types.js";
import { requireActive, requireGroupConversation } from "../lookup.js";
import { loadState } from "../mls-state.js";
import { drainQueue } from "../sync.js";
import { plan } from "./commit-plan.js";
import { commitOrderStats } from "./own-echo.js";
import { publishToGroup } from "./queue.js";

/** How long a command waits for its change to settle before leaving it to the next sync. */
const SETTLE_MS = 30_000;
/** Rounds of redoing one change before it is given up (each round, another commit won first). */
const MAX_REDO = 50;

/** One intent holding both: a change asked for while another was still waiting for its epoch. */
export function mergeIntents(a: CommitIntent, b: CommitIntent | undefined): CommitIntent {
  if (!b) return a;
  const union = <T>(x: T[] | undefined, y: T[] | undefined) =>
    x || y ? [...(x ?? []), ...(y ?? [])] : undefined;
  const merged: CommitIntent = {};
  const add = union(a.add, b.add);
  const join = union(a.join, b.join);
  if (join) merged.join = join;
  const readd = union(a.readd, b.readd);
  if (readd) merged.readd = readd;
  const remove = union(a.remove, b.remove);
  const devices = union(a.devices, b.devices);
  const revokeDevices = union(a.revokeDevices, b.revokeDevices);
  if (devices) merged.devices = devices;
  if (revokeDevices) merged.revokeDevices = revokeDevices;
  const promote = union(a.promote, b.promote);
  const demote = union(a.demote, b.demote);
  if (add) merged.add = add;
  if (remove) merged.remove = remove;
  if (promote) merged.promote = promote;
  if (demote) merged.demote = demote;
  const rename = b.rename ?? a.rename;
  if (rename !== undefined) merged.rename = rename;
  if (a.rekey || b.rekey) merged.rekey = true;
  if (a.unchecked || b.unchecked) merged.unchecked = true;
  if (a.leave || b.leave) merged.leave = true;
  return merged;
}

/**
 * Under the profile lock: commits `intent` at the group's current epoch and publishes it, staged
 * (see above). When a change of ours is already waiting, this one waits behind it (merged into its
 * `next`). Returns false when nothing of the intent is left to do.
 */
export async function proposeLocked(
  ctx: ClientContext,
  conversation: GroupConversationRecord,
  intent: CommitIntent,
  redone = 0,
): Promise<boolean> {
  const waiting = await pendingCommit(ctx.repo, conversation.id);
  if (waiting) {
    const batch = putPendingCommit(ctx.repo.batch(), conversation.id, {
      ...waiting,
      next: mergeIntents(waiting.next ?? {}, intent),
    });
    await ctx.repo.commit(batch);
    return true;
  }
  const profile = await requireProfile(ctx);
  const state = await loadState(ctx, conversation.groupId);
  const planned = await plan(ctx, state, intent, profile);
  if (!planned) return false;
  const result = await ctx.engine.commit(state, planned.changes);
  if (result.commits.length !== 1) throw new ParleyError("corrupt", { what: "group_state" });
  const commit = result.commits[0]!;
  const digest = toHex(await ctx.crypto.sha256(commit));
  const staged = ctx.engine.serialize(result.state);
  const record: PendingCommitRecord = {
    intent: planned.intent,
    baseEpoch: state.epoch.toString(),
    digest,
    commit: b64(commit),
    staged: stagedState(staged),
    ...(result.welcome ? { welcome: b64(result.welcome) } : {}),
    status: "sent",
    redone,
  };
  // Stored before it leaves: a crash after this publishes the same bytes again (settleGroup).
  const batch = putPendingCommit(ctx.repo.batch(), conversation.id, record);
  ctx.repo.markPayloadSeen(batch, conversation.id, digest);
  await ctx.repo.commit(batch);
  await publishToGroup(ctx, conversation, [commit], { rescue: true });
  return true;
}

/** Whether `record` has been redone too often to try again. */
export const givenUp = (record: PendingCommitRecord) => record.redone >= MAX_REDO;

/**
 * Commits a change the user asked for and waits until it has won its epoch (or came to nothing:
 * everything it would change, another commit changed first). Returns the events of the deliveries
 * read meanwhile.
 */
export async function commitChange(
  ctx: ClientContext,
  conversationId: string,
  intent: CommitIntent,
): Promise<ClientEvent[]> {
  const events = await settleGroup(ctx, conversationId); // a change of ours still waiting goes first
  await ctx.lock.run(async () => {
    const conversation = await requireGroupConversation(ctx, conversationId);
    // Settling may have read our own removal (or a dead epoch): the group's keys are gone.
    requireActive(conversation);
    return proposeLocked(ctx, conversation, intent);
  });
  events.push(...(await settleGroup(ctx, conversationId)));
  return events;
}

/**
 * Reads the group's queue until no change of ours waits there: our commit has won or been redone
 * until it did, its Welcomes and queue move are out, and the move's echo came back.
 */
export async function settleGroup(ctx: ClientContext, conversationId: string): Promise<ClientEvent[]> {
  const events: ClientEvent[] = [];
  const deadline = Date.now() + SETTLE_MS;
  let republished = false;
  let checkedAt: string | undefined;
  while (Date.now() < deadline) {
    const pending = await pendingCommit(ctx.repo, conversationId);
    const moving = (await groupSents(ctx.repo, conversationId)).some((r) => r.body.type === "group-queue");
    if (!pending && !moving) return events;
    if (pending && pending.status !== "sent") {
      events.push(...(await runFollowups(ctx, [{ kind: "group-order", conversationId }])));
      continue;
    }
    const conversation = await ctx.repo.conversation(conversationId);
    if (conversation?.kind !== "group" || conversation.status !== "active") return events;
    const followups: Followup[] = [];
    const before = await cursors(ctx, conversation);
    for (const queue of [conversation.receive, ...conversation.previousQueues]) {
      await drainQueue(ctx, queue, events, followups);
    }
    events.push(...(await runFollowups(ctx, followups)));
    if (followups.length > 0 || (await cursors(ctx, conversation)) !== before) continue;
    // Read to the end, and the group is past our commit's epoch: it lost where we cannot see it.
    // (Checked once for each point reached in the queue: it decodes the group's state.)
    const reached = await cursors(ctx, conversation);
    if (pending && reached !== checkedAt) {
      checkedAt = reached;
      if (await markOvertaken(ctx, conversation)) continue;
    }
    // The queue is read to its end and our commit is not in it: it never left (a crash between
    // storing and sending it). The same bytes go out now.
    if (pending && !republished) {
      republished = true;
      await publishToGroup(ctx, conversation, [unb64(pending.commit)], { rescue: true });
      continue;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return events;
}

/**
 * Our commit still waits for its echo, but the group has gone past the epoch it was made in: the
 * epoch has a winner, which we applied, so ours lost — its echo will never say so when it never
 * reached the queue (the relay was out of reach or lost it in a crash) or sits on a queue we no
 * longer read. Marked lost, to be redone like any change that lost. Returns whether it was.
 */
async function markOvertaken(ctx: ClientContext, conversation: GroupConversationRecord): Promise<boolean> {
  return ctx.lock.run(async () => {
    const pending = await pendingCommit(ctx.repo, conversation.id);
    if (pending?.status !== "sent") return false;
    const state = await loadState(ctx, conversation.groupId);
    if (BigInt(pending.baseEpoch) >= state.epoch) return false;
    await ctx.repo.commit(
      putPendingCommit(ctx.repo.batch(), conversation.id, { ...pending, status: "lost" }),
    );
    commitOrderStats.lost++;
    return true;
  });
}

/**
 * After a sync read every queue, a change of ours still waiting carries on rather than waiting for
 * our next change to the group (with everything asked for meanwhile queued behind it): overtaken
 * (see markOvertaken), it is redone; still of the current epoch but not in the queue, it never
 * left (the relay was out of reach), and the same bytes go out again — a second copy, should the
 * first be on its way, is dropped by all as stale; won or lost with its follow-up cut short (the
 * relay went away while its Welcomes or queue move left), the follow-up runs again.
 *
 * `before`: our changes that were waiting when the sync began reading (waitingCommits, taken under
 * the lock). Only those are sent again: one proposed by a command while the sync was reading was
 * published by that command after the sync's reads had been answered, so its absence from what the
 * sync read says nothing — sending it again would put a second copy in the queue, which every member
 * downloads and drops. Without `before` (listen, when a relay connection opens: nothing was read
 * yet) every waiting change goes out again.
 */
export async function resumeCommits(
  ctx: ClientContext,
  before?: ReadonlyMap<string, string>,
): Promise<ClientEvent[]> {
  const followups: Followup[] = [];
  for (const c of await ctx.repo.conversations()) {
    if (c.kind !== "group" || c.status !== "active") continue;
    const pending = await pendingCommit(ctx.repo, c.id); // rare: no state decoded for the rest
    if (!pending) continue;
    if (pending.status !== "sent" || (await markOvertaken(ctx, c))) {
      followups.push({ kind: "group-order", conversationId: c.id });
      continue;
    }
    await ctx.lock.run(async () => {
      const again = await pendingCommit(ctx.repo, c.id);
      if (again?.digest !== pending.digest || again.status !== "sent") return;
      if (before && before.get(c.id) !== again.digest) return; // published while we read: its command settles it
      // Out of reach again: the next sync tries again; what this one read stands.
      await publishToGroup(ctx, c, [unb64(again.commit)], { rescue: true }).catch((e) => {
        if (!(e instanceof RelayError)) throw e;
      });
    });
  }
  return runFollowups(ctx, followups);
}

/**
 * Our changes waiting for their echo, by conversation (their digests). Taken under the lock, so a
 * change listed here was published (or failed to be) before: a read that starts after sees its echo.
 */
export async function waitingCommits(ctx: ClientContext): Promise<Map<string, string>> {
  return ctx.lock.run(async () => {
    const waiting = new Map<string, string>();
    for (const c of await ctx.repo.conversations()) {
      if (c.kind !== "group" || c.status !== "active") continue;
      const pending = await pendingCommit(ctx.repo, c.id);
      if (pending?.status === "sent") waiting.set(c.id, pending.digest);
    }
    return waiting;
  });
}

async function cursors(ctx: ClientContext, c: GroupConversationRecord): Promise<string> {
  const all = await Promise.all([c.receive, ...c.previousQueues].map((q) => ctx.repo.cursor(q.queueId)));
  return all.join();
}

export { deletePendingCommit };
