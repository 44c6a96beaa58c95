/**
 * The send pipeline: a message is sealed, and the ratchet, the message and its outbox entry are
 * stored in one write; then the outbox hands the ciphertext to the relay (outbox-delivery.ts) — a
 * 1:1 message to the contact's queue, a group message to the group's shared queue — now, or later
 * if the relay cannot be reached.
 */
import { type Body, MAX_TEXT_LENGTH } from "../content/index.js";
import type { Mention } from "../content/message-ref.js";
import { toBase64Url as b64r } from "../encoding/base64url.js";
import { toHex } from "../encoding/bytes.js";
import { ParleyError } from "../errors.js";
import { pad } from "../protocol/padding.js";
import type { Batch } from "../store/batch.js";
import { putGroupSent } from "../store/group-order.js";
import type { ConversationRecord, FileRecord, MessageRecord } from "../store/records.js";
import { type ClientContext, orderKey, randomId, requireProfile } from "./context.js";
import { beforeGroupSend } from "./groups/before-send.js";
import { requireWithinLength } from "./length.js";
import { findConversation, messageView, requireActive, requireConversation } from "./lookup.js";
import { mentionsOf } from "./messages/mentions.js";
import { commitWithState, encryptContent, loadState, saveState } from "./mls-state.js";
import { deliverInBackground, deliverOutbox } from "./outbox-delivery.js";
import type { MessageView } from "./views.js";

export async function send(
  ctx: ClientContext,
  nameOrId: string,
  text: string,
  options: { quote?: string; wait?: boolean } = {},
): Promise<MessageView> {
  if (text.length === 0) throw new ParleyError("empty", { what: "text" });
  // What every receiver would drop as malformed is refused here, before anything is sealed: it
  // would otherwise show "sent" and vanish.
  requireWithinLength(text, MAX_TEXT_LENGTH);
  await requireProfile(ctx);
  const conversation = await findConversation(ctx, nameOrId);
  // In a group, "@Name" of a member becomes a mention (messages/mentions.ts).
  const mentions = conversation.kind === "group" ? await mentionsOf(ctx, conversation, text) : [];
  const quote = options.quote !== undefined ? { quote: { id: options.quote } } : {};
  const body: Body = { type: "text", text, ...quote, ...(mentions.length ? { mentions } : {}) };
  return sendBody(ctx, conversation.id, body, { text, quote: options.quote, mentions }, undefined, {
    wait: options.wait !== false,
  });
}

/**
 * Sends content a user wrote (text, a file message) and keeps it in history as `shown`: sealed,
 * the ratchet stored, then the ciphertext leaves. `id`: the content id (default: a fresh one).
 * `wait: false`: returns once the message is stored ("sending"), and the outbox delivers it in the
 * background, with whatever else queued up meanwhile (outbox-delivery.ts, deliverInBackground).
 */
export async function sendBody(
  ctx: ClientContext,
  nameOrId: string,
  body: Body,
  shown: { text: string; file?: FileRecord; quote?: string | undefined; mentions?: Mention[] },
  id = randomId(ctx),
  options: { wait?: boolean } = {},
): Promise<MessageView> {
  await requireProfile(ctx);
  const target = await findConversation(ctx, nameOrId);
  if (target.kind === "group") await beforeGroupSend(ctx, target.id);
  const { record, conversation } = await ctx.lock.run(async () => {
    const conversation = await requireSendable(ctx, target.id);
    const sentAt = ctx.sealingTime();
    const record: MessageRecord = {
      id,
      conversationId: conversation.id,
      fromMe: true,
      senderIdentity: null,
      text: shown.text,
      ...(shown.file ? { file: shown.file } : {}),
      ...(shown.quote !== undefined ? { quote: shown.quote } : {}),
      ...(shown.mentions?.length ? { mentions: shown.mentions } : {}),
      sentAt,
      receivedAt: null,
      status: "sending",
      key: orderKey(ctx, id, sentAt), // where every receiver places it (inbox/history.ts)
    };
    await sealIntoOutbox(ctx, conversation, body, id, sentAt, record.key, (batch) =>
      ctx.repo.putMessage(batch, record),
    );
    return { record, conversation };
  });
  if (options.wait === false) {
    void deliverInBackground(ctx, conversation.id);
    return messageView(ctx, record, conversation);
  }
  const { outcomes } = await deliverOutbox(ctx, { conversationId: conversation.id, now: true });
  const outcome = outcomes.get(id);
  // Not tried (an older message of this conversation waits for a retry): it waits behind it.
  record.status = outcome?.status ?? "sending";
  if (outcome?.status === "failed") throw outcome.error;
  const current = await ctx.repo.message(record.conversationId, record.id);
  return messageView(ctx, current ?? record, conversation);
}

/** The conversation, if we can send in it now (a group we are in; a contact whose intro came). */
export async function requireSendable(ctx: ClientContext, id: string): Promise<ConversationRecord> {
  const conversation = await requireConversation(ctx, id);
  if (conversation.kind === "group") {
    requireActive(conversation);
    return conversation;
  }
  const contact = await ctx.repo.contact(conversation.contactId);
  if (contact?.blocked) throw new ParleyError("blocked", { contact: contact.name });
  if (contact?.mustAccept) throw new ParleyError("key_not_accepted", { contact: contact.name });
  if (!conversation.sendTo) throw new ParleyError("not_ready", { contact: contact?.name ?? "" });
  return conversation;
}

/**
 * Under the profile lock: seals `body` and, in one write, stores the moved ratchet, whatever `also`
 * adds (the message, or the message an edit changed) and an outbox entry holding the sealed bytes
 * under `order`. Delivery is the caller's next step (deliverOutbox).
 */
export async function sealIntoOutbox(
  ctx: ClientContext,
  conversation: ConversationRecord,
  body: Body,
  id: string,
  sentAt: number,
  order: string,
  also: (batch: Batch) => void,
  receipt = false,
): Promise<void> {
  const state = await loadState(ctx, conversation.groupId);
  const sealed = await encryptContent(ctx, state, body, id, sentAt);
  // The ratchet moves in the store, and the message is in history and in the outbox, before the
  // ciphertext leaves: a killed process can delay a message, never lose it; and no key is used
  // twice even after a power cut (on disk first, or covered by a reservation: sending-ahead.ts).
  const batch = ctx.repo.batch();
  saveState(ctx, batch, conversation.groupId, sealed.state);
  also(batch);
  ctx.repo.putOutboxEntry(batch, order, {
    messageId: id,
    conversationId: conversation.id,
    payload: b64r(sealed.message),
    attempts: 0,
    nextAttemptAt: 0,
    ...(receipt ? { receipt: true as const } : {}),
    ...(sealed.ahead ? { ahead: true as const } : {}),
  });
  // Our own copy, should the relay echo it (group) or a retry deliver it twice: skipped.
  const digest = toHex(await ctx.crypto.sha256(sealed.message));
  ctx.repo.markPayloadSeen(batch, conversation.id, digest);
  // In a group, kept until its echo shows it counted; sealed again if it did not (commit-order.ts).
  if (conversation.kind === "group") {
    putGroupSent(batch, conversation.id, digest, { epoch: state.epoch.toString(), id, sentAt, body, order });
  }
  await commitWithState(ctx, batch, conversation.groupId, sealed.state);
}

/**
 * Under the profile lock: seals a control message into the outbox the way a read receipt goes (no
 * history, no event, no copy to our devices), for one that must not be lost to a relay out of reach
 * — a Welcome's group-invite, whose commit has already won and which is never sealed again. Sent
 * straight (sendContentLocked), a failed request lost it for good: the invitee stayed in the tree
 * without ever joining (found by the chaos bench, the relay killed mid-add). The caller delivers the
 * outbox once it releases the lock; sync and listen try again until the relay takes it. `also`
 * adds to the same write. Returns whether it was sealed (false: the chat has nowhere to send yet).
 */
export async function sealControlLocked(
  ctx: ClientContext,
  conversationId: string,
  body: Body,
  also: (batch: Batch) => void = () => {},
): Promise<boolean> {
  const conversation = await requireConversation(ctx, conversationId);
  // Nowhere to send it yet (a contact whose intro has not come): as sendContentLocked, nothing.
  if (!conversation.sendTo) return false;
  const id = randomId(ctx);
  const at = ctx.sealingTime();
  await sealIntoOutbox(ctx, conversation, body, id, at, orderKey(ctx, id, at), also, true);
  return true;
}

/** Encrypts and sends a control message in a 1:1 conversation. The caller holds the lock. */
export async function sendContentLocked(
  ctx: ClientContext,
  conversationId: string,
  body: Body,
): Promise<void> {
  const conversation = await requireConversation(ctx, conversationId);
  if (!conversation.sendTo) return;
  const sealed = await encryptContent(ctx, await loadState(ctx, conversation.groupId), body);
  const batch = ctx.repo.batch();
  saveState(ctx, batch, conversation.groupId, sealed.state);
  await commitWithState(ctx, batch, conversation.groupId, sealed.state);
  await ctx.relay(conversation.sendTo.relay).send(conversation.sendTo.sendId, pad(sealed.message));
}
