/**
 * Commit order in a 1:1 chat our devices share (docs/devices.md, "Commit order in a 1:1 chat"). Our
 * devices all read one queue of the chat, the contact writes to it, and each device of ours copies
 * there what it sends: that queue's order is the one every device of ours sees. So, as in a group
 * (groups/commit-order.ts), a commit of ours is first published there alone, kept aside (its next
 * state staged); its echo decides: first of its epoch, it won — applied, and only then sent to the
 * contact, with what was sealed after it; after another commit of the same epoch, it lost — the
 * other was applied, and the change is made again on the epoch that won (or comes to nothing). Two
 * devices of ours committing at once (a link and a revocation) no longer fork the chat.
 *
 * The contact never sees a commit of ours that lost. What this does not order: a commit of the
 * contact's made at the same time as one of ours (the contact's devices read another queue).
 */
import { toHex } from "../../encoding/bytes.js";
import { ParleyError } from "../../errors.js";
import type { GroupChanges, GroupState, IncomingMessage } from "../../mls/engine.js";
import { privateMessageHeader } from "../../mls/message-header.js";
import { pad } from "../../protocol/padding.js";
import type { QueueCredentials } from "../../relay-client/signing.js";
import type { Batch } from "../../store/batch.js";
import {
  type DirectCommitRecord,
  deleteDirectCommit,
  directCommit,
  directCommitIds,
  putDirectCommit,
} from "../../store/direct-order.js";
import type { DirectConversationRecord } from "../../store/records.js";
import { b64, unb64 } from "../../store/repository.js";
import { stagedState } from "../../store/staged-state.js";
import type { ClientContext } from "../context.js";
import type { ClientEvent } from "../events.js";
import { runFollowups } from "../followups/run.js";
import type { Followup } from "../followups/types.js";
import { nothing, type Processed } from "../inbox/types.js";
import { requireConversation } from "../lookup.js";
import { loadStaged, loadState, saveState } from "../mls-state.js";
import { drainQueue } from "../sync.js";

/** How long one round waits for its commit's echo. */
const SETTLE_MS = 30_000;
/** Rounds of redoing one change before it is given up (each round, another commit won first). */
const MAX_REDO = 20;

/** Our commit was not confirmed by the shared queue in time, or lost too many rounds: not made. */
export class DirectCommitUnsettledError extends Error {
  override name = "DirectCommitUnsettledError";
  constructor(readonly reason: "timeout" | "redone") {
    super(
      reason === "timeout"
        ? "the chat's queue did not confirm the change in time"
        : "the change lost its epoch to other commits too often",
    );
  }
}

/** A change to make at the chat's current epoch, and what is sealed in the new epoch after it. */
export interface DirectChange {
  changes: GroupChanges;
  after?: (state: GroupState) => Promise<{
    state: GroupState;
    toContact: Uint8Array[];
    toShared: Uint8Array[];
    receive?: QueueCredentials;
  }>;
}

/**
 * Commits the change `make` gives at the chat's current epoch (undefined: nothing left to do) and
 * waits until it has won its epoch, redoing it as often as another commit won first. Returns the
 * record of the commit that won (its Welcome, where it lies), or undefined when nothing was left.
 */
export async function commitInSharedChat(
  ctx: ClientContext,
  conversationId: string,
  make: (state: GroupState) => Promise<DirectChange | undefined>,
  events: ClientEvent[] = [],
): Promise<DirectCommitRecord | undefined> {
  for (let round = 0; round < MAX_REDO; round++) {
    const made = await ctx.lock.run(() => proposeLocked(ctx, conversationId, make));
    if (!made) return undefined;
    const settled = await settle(ctx, conversationId, made, events);
    if (settled.status === "won") {
      await finishWon(ctx, conversationId);
      return settled;
    }
  }
  throw new DirectCommitUnsettledError("redone");
}

async function proposeLocked(
  ctx: ClientContext,
  conversationId: string,
  make: (state: GroupState) => Promise<DirectChange | undefined>,
): Promise<DirectCommitRecord | undefined> {
  const c = (await requireConversation(ctx, conversationId)) as DirectConversationRecord;
  if (c.kind !== "direct" || !c.sendTo) throw new ParleyError("not_ready", { contact: "" });
  const state = await loadState(ctx, c.groupId);
  const change = await make(state);
  if (!change) return undefined;
  const committed = await ctx.engine.commit(state, change.changes);
  if (committed.commits.length !== 1) throw new ParleyError("corrupt", { what: "group_state" });
  const commit = committed.commits[0]!;
  const after = change.after
    ? await change.after(committed.state)
    : { state: committed.state, toContact: [], toShared: [] };
  const staged = ctx.engine.serialize(after.state);
  const record: DirectCommitRecord = {
    baseEpoch: state.epoch.toString(),
    digest: toHex(await ctx.crypto.sha256(commit)),
    commit: b64(commit),
    staged: stagedState(staged),
    ...(committed.welcome ? { welcome: b64(committed.welcome) } : {}),
    toContact: after.toContact.map(b64),
    toShared: after.toShared.map(b64),
    queue: c.receive,
    ...(after.receive ? { receive: after.receive } : {}),
    status: "sent",
  };
  // Stored before it leaves; its echo is known by its digest (inbox/receive.ts).
  const batch = putDirectCommit(ctx.repo.batch(), c.id, record);
  ctx.repo.markPayloadSeen(batch, c.id, record.digest);
  await ctx.repo.commit(batch);
  await ctx.relay(c.receive.relay).send(c.receive.sendId, pad(commit));
  return record;
}

/** Reads the shared queue until our commit's echo (or a commit that beat it) decided. */
async function settle(
  ctx: ClientContext,
  conversationId: string,
  made: DirectCommitRecord,
  events: ClientEvent[],
): Promise<DirectCommitRecord> {
  const deadline = Date.now() + SETTLE_MS;
  while (Date.now() < deadline) {
    const followups: Followup[] = [];
    await drainQueue(ctx, made.queue, events, followups);
    events.push(...(await runFollowups(ctx, followups)));
    const now = await directCommit(ctx.repo, conversationId);
    if (!now || now.digest !== made.digest) return { ...made, status: "lost" };
    if (now.status !== "sent") {
      if (now.status === "lost") await ctx.lock.run(() => forget(ctx, conversationId, now.digest));
      return now;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  // Never echoed in time: given up here; its echo, should it come, finds it lost.
  await ctx.lock.run(() => forget(ctx, conversationId, made.digest));
  throw new DirectCommitUnsettledError("timeout");
}

async function forget(ctx: ClientContext, conversationId: string, digest: string) {
  const now = await directCommit(ctx.repo, conversationId);
  if (now?.digest === digest) await ctx.repo.commit(deleteDirectCommit(ctx.repo.batch(), conversationId));
}

/** Our commit won: the contact gets it (and what follows it), our devices what follows it. */
async function finishWon(ctx: ClientContext, conversationId: string): Promise<void> {
  await ctx.lock.run(async () => {
    const won = await directCommit(ctx.repo, conversationId);
    if (won?.status !== "won") return;
    const c = await ctx.repo.conversation(conversationId);
    // The chat was deleted meanwhile: nothing left to send it to.
    if (!c) return ctx.repo.commit(deleteDirectCommit(ctx.repo.batch(), conversationId));
    const to = c.sendTo;
    if (!to) throw new ParleyError("not_ready", { contact: "" });
    for (const m of [won.commit, ...won.toContact]) await ctx.relay(to.relay).send(to.sendId, pad(unb64(m)));
    for (const m of won.toShared) await ctx.relay(won.queue.relay).send(won.queue.sendId, pad(unb64(m)));
    await ctx.repo.commit(deleteDirectCommit(ctx.repo.batch(), conversationId));
  });
}

/**
 * After a sync: a commit of ours that won but whose messages did not all leave (the process ended
 * or the relay went away in between) sends them now; one that lost is forgotten (the command that
 * made it redoes it, or said it was not done).
 */
export async function resumeDirectCommits(ctx: ClientContext): Promise<void> {
  for (const id of await directCommitIds(ctx.repo)) {
    const record = await directCommit(ctx.repo, id);
    if (record?.status === "won") await finishWon(ctx, id);
    else if (record?.status === "lost") await ctx.lock.run(() => forget(ctx, id, record.digest));
  }
}

/** Our own commit read back from the shared queue: first of its epoch, it won and is applied. */
export async function ownDirectEcho(
  ctx: ClientContext,
  batch: Batch,
  conversation: DirectConversationRecord,
  msgId: string,
  digest: string,
): Promise<Processed> {
  const pending = await directCommit(ctx.repo, conversation.id);
  if (pending?.digest !== digest || pending.status !== "sent") return nothing();
  const state = await loadState(ctx, conversation.groupId);
  if (state.epoch !== BigInt(pending.baseEpoch)) {
    putDirectCommit(batch, conversation.id, { ...pending, status: "lost" });
    return nothing();
  }
  const staged = await loadStaged(ctx, conversation.groupId, pending.staged);
  saveState(ctx, batch, conversation.groupId, staged);
  if (pending.receive) {
    ctx.repo.putConversation(batch, { ...conversation, receive: pending.receive });
    ctx.repo.putRoute(batch, pending.receive.queueId, {
      kind: "conversation",
      conversationId: conversation.id,
    });
  }
  putDirectCommit(batch, conversation.id, { ...pending, status: "won", cursor: msgId });
  return { events: [], followups: [], saved: { groupId: conversation.groupId, epoch: staged.epoch } };
}

/**
 * A commit of an epoch this chat has left: it lost to one the queue put first (ours or another
 * device's), and every device of ours drops it alike. Undefined: process it as usual.
 */
export function staleDirectCommit(state: GroupState, message: Uint8Array): Processed | undefined {
  const header = privateMessageHeader(message);
  if (header && header.contentType !== "application" && header.epoch < state.epoch) return nothing();
  return undefined;
}

/** Another commit took the epoch a commit of ours was waiting for: ours lost. */
export async function directCommitOvertaken(
  ctx: ClientContext,
  batch: Batch,
  conversationId: string,
  before: GroupState,
  result: IncomingMessage,
): Promise<void> {
  if (result.kind !== "commit") return;
  const pending = await directCommit(ctx.repo, conversationId);
  if (pending?.status === "sent" && BigInt(pending.baseEpoch) === before.epoch) {
    putDirectCommit(batch, conversationId, { ...pending, status: "lost" });
  }
}
