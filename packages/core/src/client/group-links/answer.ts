/**
 * The answer to a join request: the admin's client sends the Welcome, sealed with the key the
 * request brought, to the queue it named (answerJoin); the joiner's client opens it and joins
 * (receiveJoinAnswer) — with the checks of a `group-invite` (inbox/handlers/group-invite.ts), the
 * link standing in for the contact who invites: the group must be the link's, and the admin who
 * made the link one of its admins.
 */
import type { GroupQueue } from "../../content/index.js";
import { openGroupLinkPart, sealGroupLinkPart } from "../../messaging/group-link.js";
import { decodeGroupMetadata, isAdmin } from "../../messaging/group-metadata.js";
import { type GroupState, MlsProcessingError } from "../../mls/engine.js";
import { pad } from "../../protocol/padding.js";
import type { Batch } from "../../store/batch.js";
import { deleteGroupJoin, groupJoin } from "../../store/group-links.js";
import type { LinkJoin } from "../../store/group-order.js";
import { Keys } from "../../store/keys.js";
import type { GroupConversationRecord } from "../../store/records.js";
import { b64, unb64 } from "../../store/repository.js";
import type { ClientContext } from "../context.js";
import { joinedGroup, putJoinedGroup, rejoinRefusal } from "../groups/joined.js";
import { reject } from "../inbox/rejection.js";
import type { Processed } from "../inbox/types.js";
import { conversationOfGroup } from "../lookup.js";
import { keyPackageId } from "../mls-state.js";
import type { PersonRef } from "../views.js";

export async function answerJoin(
  ctx: ClientContext,
  conversation: GroupConversationRecord,
  join: LinkJoin,
  welcome: string,
  cursor: string | undefined,
): Promise<void> {
  const sealed = await sealGroupLinkPart(ctx.crypto, "answer", unb64(join.replyKey), {
    type: "group-invite",
    welcome,
    keyPackageRef: await keyPackageId(ctx, unb64(join.keyPackage)),
    queue: conversation.receive as GroupQueue,
    ...(cursor ? { cursor } : {}),
  });
  await ctx.relay(join.reply.relay).send(join.reply.sendId, pad(sealed));
}

/** Inbox: a delivery on the queue a join request of ours named. */
export async function receiveJoinAnswer(
  ctx: ClientContext,
  batch: Batch,
  queueId: string,
  payload: Uint8Array,
): Promise<Processed> {
  const pending = await groupJoin(ctx.repo, queueId);
  if (!pending) return reject({ reason: "unknown_queue" });
  const answer = await openGroupLinkPart(ctx.crypto, "answer", unb64(pending.replyKey), payload);
  if (answer.keyPackageRef !== (await keyPackageId(ctx, unb64(pending.keyPackage.publicMessage)))) {
    return reject({ reason: "malformed", detail: "join answer for another KeyPackage" });
  }
  let state: GroupState;
  try {
    state = await ctx.engine.joinFromWelcome(unb64(answer.welcome), {
      publicMessage: unb64(pending.keyPackage.publicMessage),
      privateKey: unb64(pending.keyPackage.privateKey),
    });
  } catch (e) {
    throw new MlsProcessingError(`group join rejected: ${(e as Error).message}`);
  }
  const groupId = b64(state.groupId);
  const meta = decodeGroupMetadata(ctx.engine.metadata(state));
  const admin: PersonRef = { identityKey: pending.admin, name: null, relation: "member" };
  if (groupId !== pending.groupId || !meta || !isAdmin(meta, pending.admin)) {
    return reject({ reason: "join_answer_wrong_group", group: pending.group });
  }
  const existing = await conversationOfGroup(ctx, groupId);
  // As for a group-invite (groups/joined.ts).
  const refusal = rejoinRefusal(existing, pending.admin, admin);
  if (refusal) return reject(refusal);
  const conversation = joinedGroup(ctx, existing, groupId, answer.queue, meta);
  // The answer queue has done its work: this device stops reading it.
  deleteGroupJoin(batch, queueId);
  batch.delete(Keys.route(queueId));
  putJoinedGroup(ctx, batch, conversation, state, answer.cursor);
  return {
    events: [
      { type: "group", conversationId: conversation.id, name: meta.name, change: "joined", by: admin },
    ],
    followups: [{ kind: "group-profile", conversationId: conversation.id }],
    saved: { groupId, epoch: state.epoch },
  };
}
