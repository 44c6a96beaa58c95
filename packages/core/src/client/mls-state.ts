/** Loading and saving a conversation's MLS state, and sealing content into it. */
import { type Body, encodeContent } from "../content/index.js";
import { ParleyError } from "../errors.js";
import type { GroupState } from "../mls/engine.js";
import type { Batch } from "../store/batch.js";
import { b64 } from "../store/repository.js";
import { type StagedState, unstagedState } from "../store/staged-state.js";
import { type ClientContext, randomId } from "./context.js";
import { sealAhead } from "./sending-ahead.js";

/**
 * The group's state as stored: the one kept decoded since it was last saved or loaded, if the store
 * still holds it and no operation has used it since (store/live-states.ts), else decoded from the
 * store and kept. An operation that uses it leaves the state it returned to saveState.
 */
export async function loadState(ctx: ClientContext, groupId: string): Promise<GroupState> {
  const tag = await ctx.repo.groupStateTag(groupId);
  if (!tag) throw new ParleyError("corrupt", { what: "group_state" });
  const live = ctx.repo.liveStates.get(ctx.engine, groupId, tag);
  if (live !== undefined) return live;
  // The epoch and ratchet part just read name it: only the epoch part is read now.
  const serialized = await ctx.repo.groupState(groupId, tag);
  if (!serialized) throw new ParleyError("corrupt", { what: "group_state" });
  const state = ctx.engine.deserialize(serialized);
  ctx.repo.liveStates.keep(groupId, state, serialized.epoch, serialized.ratchetPart);
  return state;
}

/**
 * Adds `state` to `batch`; once the batch has landed, the engine knows what the store holds (its next
 * save writes only the tree's changes since) and the next load has the state as it is.
 */
export function saveState(ctx: ClientContext, batch: Batch, groupId: string, state: GroupState): void {
  const serialized = ctx.engine.serialize(state);
  ctx.repo.putGroupState(batch, groupId, serialized);
  batch.afterCommit(() => {
    ctx.engine.stored(state, serialized);
    ctx.repo.liveStates.keep(groupId, state, serialized.epoch, serialized.ratchetPart);
  });
}

/** The state a pending commit of ours leads to (store/staged-state.ts), with the store's tree pieces. */
export async function loadStaged(
  ctx: ClientContext,
  groupId: string,
  staged: StagedState,
): Promise<GroupState> {
  const held = staged.tree ? await ctx.repo.groupTreePieces(groupId) : [];
  return ctx.engine.deserialize(unstagedState(staged, held));
}

/** Commits a batch that holds a saved state, and notes its epoch (see ProfileRepository.putGroupState). */
export async function commitWithState(
  ctx: ClientContext,
  batch: Batch,
  groupId: string,
  state: GroupState,
): Promise<void> {
  await ctx.repo.commit(batch);
  ctx.repo.groupStateSaved(groupId, state.epoch);
}

/**
 * Seals content (a fresh id and the current time unless given) as an MLS application message, under
 * the profile lock. `ahead`: it may leave before the store's next sync to disk (sending-ahead.ts).
 */
export function encryptContent(
  ctx: ClientContext,
  state: GroupState,
  body: Body,
  id?: string,
  sentAt?: number,
) {
  const content = { v: 1 as const, id: id ?? randomId(ctx), sentAt: sentAt ?? ctx.now(), body };
  return sealAhead(ctx, b64(state.groupId), state, encodeContent(content));
}

/** A stable local id for a KeyPackage: SHA-256 of its encoding. */
export async function keyPackageId(ctx: ClientContext, publicMessage: Uint8Array): Promise<string> {
  return b64(await ctx.crypto.sha256(publicMessage));
}
