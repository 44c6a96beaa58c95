/**
 * The send pipeline: a message is sealed, the ratchet stored, then the ciphertext leaves; a 1:1
 * message goes to the contact's queue, a group message to the group's shared queue.
 */
import type { Body } from "../content/index.js";
import { ParleyError } from "../errors.js";
import { pad } from "../protocol/padding.js";
import type { FileRecord, MessageRecord } from "../store/records.js";
import { type ClientContext, orderKey, randomId, requireProfile } from "./context.js";
import { publishToGroup } from "./groups/queue.js";
import { findConversation, messageView, requireActive, requireConversation } from "./lookup.js";
import { commitWithState, encryptContent, loadState, saveState } from "./mls-state.js";
import type { MessageView } from "./views.js";

export async function send(ctx: ClientContext, nameOrId: string, text: string): Promise<MessageView> {
  if (text.length === 0) throw new ParleyError("empty", { what: "text" });
  return sendBody(ctx, nameOrId, { type: "text", text }, { text });
}

/**
 * Sends content a user wrote (text, a file message) and keeps it in history as `shown`: sealed,
 * the ratchet stored, then the ciphertext leaves. `id`: the content id (default: a fresh one).
 */
export async function sendBody(
  ctx: ClientContext,
  nameOrId: string,
  body: Body,
  shown: { text: string; file?: FileRecord },
  id = randomId(ctx),
): Promise<MessageView> {
  await requireProfile(ctx);
  const target = await findConversation(ctx, nameOrId);
  const sentAt = ctx.now();
  const { record, conversation, envelope } = await ctx.lock.run(async () => {
    const conversation = await requireConversation(ctx, target.id);
    if (conversation.kind === "group") requireActive(conversation);
    else if (!conversation.sendTo) {
      const contact = await ctx.repo.contact(conversation.contactId);
      throw new ParleyError("not_ready", { contact: contact?.name ?? "" });
    }
    const state = await loadState(ctx, conversation.groupId);
    const sealed = await encryptContent(ctx, state, body, id, sentAt);
    const record: MessageRecord = {
      id,
      conversationId: conversation.id,
      fromMe: true,
      senderIdentity: null,
      text: shown.text,
      ...(shown.file ? { file: shown.file } : {}),
      sentAt,
      receivedAt: null,
      status: "sending",
      key: orderKey(ctx, id),
    };
    // The ratchet moves on disk before the ciphertext leaves: a crash can lose a message, never
    // reuse a key.
    const batch = ctx.repo.batch();
    saveState(ctx, batch, conversation.groupId, sealed.state);
    ctx.repo.putMessage(batch, record);
    await commitWithState(ctx, batch, conversation.groupId, sealed.state);
    const envelope = pad(sealed.message);
    if (conversation.kind === "group") {
      // Held under the lock so that our own echo on the group queue is known as ours.
      try {
        // An application message leaves the epoch as it is: if the group's queue vanished, the
        // members' rendezvous queue (derived from this epoch) is where it belongs.
        await publishToGroup(ctx, conversation, [sealed.message], { rescue: true });
        record.status = "sent";
      } catch (e) {
        record.status = "failed";
        await ctx.repo.commit(ctx.repo.putMessage(ctx.repo.batch(), record));
        throw e;
      }
      await ctx.repo.commit(ctx.repo.putMessage(ctx.repo.batch(), record));
    }
    return { record, conversation, envelope };
  });
  if (conversation.kind === "direct" && conversation.sendTo) {
    try {
      await ctx.relay(conversation.sendTo.relay).send(conversation.sendTo.sendId, envelope);
      record.status = "sent";
    } catch (e) {
      record.status = "failed";
      await updateMessage(ctx, record);
      throw e;
    }
    await updateMessage(ctx, record);
  }
  return messageView(ctx, record, conversation);
}

async function updateMessage(ctx: ClientContext, record: MessageRecord): Promise<void> {
  await ctx.lock.run(async () => {
    const current = await ctx.repo.message(record.conversationId, record.id);
    // A receipt may have arrived meanwhile; never move a message's status backwards.
    if (current?.status === "delivered") return;
    await ctx.repo.commit(ctx.repo.putMessage(ctx.repo.batch(), record));
  });
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
