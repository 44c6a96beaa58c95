/** The answer to one of our invites: a Welcome into the new 1:1 conversation the invitee started. */
import type { Batch } from "../../store/batch.js";
import type { DirectConversationRecord } from "../../store/records.js";
import { b64, unb64 } from "../../store/repository.js";
import { newContact, supersedeConversation } from "../contacts.js";
import { type ClientContext, randomId } from "../context.js";
import { conversationOfGroup } from "../lookup.js";
import { saveState } from "../mls-state.js";
import { reject } from "./rejection.js";
import type { Processed } from "./types.js";

/** The contact's name until their intro (the next message on the queue) says it. */
const UNNAMED_CONTACT = "New contact";

export async function acceptWelcome(
  ctx: ClientContext,
  batch: Batch,
  queueId: string,
  welcome: Uint8Array,
): Promise<Processed> {
  const invite = await ctx.repo.invite(queueId);
  if (!invite) return reject({ reason: "invite_already_answered" });
  const state = await ctx.engine.joinFromWelcome(welcome, {
    publicMessage: unb64(invite.keyPackage.publicMessage),
    privateKey: unb64(invite.keyPackage.privateKey),
  });
  const own = ctx.engine.ownLeafIndex(state);
  const peers = ctx.engine.members(state).filter((m) => m.leafIndex !== own);
  if (peers.length !== 1) return reject({ reason: "invite_answer_not_two" });
  const peer = peers[0]!;
  const groupId = b64(state.groupId);
  // Whoever answers an invite picks the group id; one that a conversation of ours already uses
  // would overwrite that conversation's keys.
  if (await conversationOfGroup(ctx, groupId)) return reject({ reason: "invite_answer_reused_id" });
  const conversationId = randomId(ctx);
  const { contact, previousConversationId } = await newContact(
    ctx,
    b64(peer.identityKey),
    UNNAMED_CONTACT,
    false,
    conversationId,
  );
  const conversation: DirectConversationRecord = {
    id: conversationId,
    kind: "direct",
    groupId,
    receive: invite.queue,
    sendTo: null, // until the intro tells us where to answer
    contactId: contact.id,
    createdAt: ctx.now(),
  };
  // Single use: the KeyPackage's private keys go with the pending invite.
  ctx.repo.deleteInvite(batch, queueId);
  ctx.repo.putRoute(batch, queueId, { kind: "conversation", conversationId: conversation.id });
  ctx.repo.putContact(batch, contact);
  ctx.repo.putConversation(batch, conversation);
  // Someone we already know (a second invite between the same two people): one contact, one chat.
  if (previousConversationId)
    await supersedeConversation(ctx, batch, previousConversationId, conversation.id);
  saveState(ctx, batch, groupId, state);
  return { events: [], followups: [], saved: { groupId, epoch: state.epoch } };
}
