/**
 * A group joined by a Welcome, whichever way it came (an admin's `group-invite` in a 1:1 chat, or
 * the answer to a request through a group link): when it may be taken, and the record it makes.
 */
import type { GroupQueue } from "../../content/index.js";
import type { GroupMetadata } from "../../messaging/group-metadata.js";
import type { GroupState } from "../../mls/engine.js";
import type { Batch } from "../../store/batch.js";
import type { ConversationRecord, GroupConversationRecord } from "../../store/records.js";
import { type ClientContext, randomId } from "../context.js";
import type { Rejection } from "../inbox/rejection.js";
import { saveState } from "../mls-state.js";
import type { PersonRef } from "../views.js";

/**
 * Why a Welcome into a group we already have (`existing`) is refused, or undefined if it may be
 * taken. A group id is no secret: every member, and everyone ever removed, knows it and can build a
 * new MLS group under it. A Welcome must never replace a conversation we have: only a group we are
 * no longer in may be re-joined, and only on the word of one of its admins as we last knew them (a
 * member who was never an admin cannot "re-create" the group around us).
 */
export function rejoinRefusal(
  existing: ConversationRecord | undefined,
  adminKey: string,
  admin: PersonRef,
): Rejection | undefined {
  if (!existing) return undefined;
  const active = existing.kind === "group" && existing.status === "active";
  if (existing.kind === "group" && !active && existing.admins.includes(adminKey)) return undefined;
  return existing.kind === "group" && active
    ? { reason: "already_in_group", inviter: admin, group: existing.name }
    : { reason: "group_id_reused", inviter: admin };
}

/** The record of a group just joined, reading `queue`: a re-join keeps its local id, so its history. */
export function joinedGroup(
  ctx: ClientContext,
  existing: ConversationRecord | undefined,
  groupId: string,
  queue: GroupQueue,
  meta: GroupMetadata,
): GroupConversationRecord {
  return {
    id: existing?.id ?? randomId(ctx),
    kind: "group",
    groupId,
    receive: queue,
    sendTo: { relay: queue.relay, sendId: queue.sendId },
    name: meta.name,
    admins: meta.admins,
    ...(meta.feed ? { feed: true as const } : {}),
    previousQueues: [],
    status: "active",
    createdAt: ctx.now(),
  };
}

/**
 * Writes a group just joined into `batch`: its record, the route of the queue it reads, where reading
 * starts (`cursor`: after the commit that added us; older messages are not for us), its MLS state.
 */
export function putJoinedGroup(
  ctx: ClientContext,
  batch: Batch,
  conversation: GroupConversationRecord,
  state: GroupState,
  cursor: string | undefined,
): void {
  const queueId = conversation.receive.queueId;
  ctx.repo.putConversation(batch, conversation);
  ctx.repo.putRoute(batch, queueId, { kind: "conversation", conversationId: conversation.id });
  if (cursor) ctx.repo.putCursor(batch, queueId, cursor);
  saveState(ctx, batch, conversation.groupId, state);
}
