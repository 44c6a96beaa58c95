/**
 * What a person does to messages already sent: reply to one, react to one, edit or delete their
 * own. Each is MLS application content (content/text.ts `quote`, reaction.ts, edit.ts, delete.ts),
 * sealed and sent through the outbox like a message, padded like one: the relay sees one more
 * message of the usual sizes, nothing else. The sender applies its own change in the same write
 * that seals it (messages/changes.ts), so its history shows what every receiver will.
 */

import { MAX_CAPTION_LENGTH } from "../../content/file.js";
import type { Body } from "../../content/index.js";
import { isReactionEmoji } from "../../content/reaction.js";
import { MAX_TEXT_LENGTH } from "../../content/text.js";
import { ParleyError } from "../../errors.js";
import type { ConversationRecord, MessageChange, MessageRecord } from "../../store/records.js";
import { type ClientContext, orderKey, randomId, requireProfile } from "../context.js";
import { requireWithinLength } from "../length.js";
import { findConversation, historyIdOf, messageView } from "../lookup.js";
import { requireSendable, sealIntoOutbox, send } from "../outbox.js";
import { deliverOutbox } from "../outbox-delivery.js";
import type { MessageView } from "../views.js";
import { applyChange, authorOf } from "./changes.js";
import { mentionsOf } from "./mentions.js";

/** The shortest id prefix a command may use for a message. */
export const MIN_ID_PREFIX = 4;

/**
 * A message of a conversation by its content id, or by an unambiguous prefix of it of at least
 * MIN_ID_PREFIX characters (the CLI shows short ids; a leading "#" is allowed).
 */
export async function findMessage(
  ctx: ClientContext,
  conversation: ConversationRecord,
  idOrPrefix: string,
): Promise<MessageRecord> {
  const wanted = idOrPrefix.trim().replace(/^#/, "");
  const historyId = historyIdOf(conversation);
  const exact = wanted ? await ctx.repo.message(historyId, wanted) : undefined;
  if (exact) return exact;
  if (wanted.length >= MIN_ID_PREFIX) {
    const matches = (await ctx.repo.messages(historyId, 100_000)).filter((m) => m.id.startsWith(wanted));
    if (matches.length === 1) return matches[0]!;
    if (matches.length > 1) throw new ParleyError("ambiguous_message", { id: wanted });
  }
  throw new ParleyError("unknown_message", { id: wanted });
}

/** Sends `text` as a reply to message `target` of that conversation. */
export async function reply(
  ctx: ClientContext,
  nameOrId: string,
  target: string,
  text: string,
): Promise<MessageView> {
  const conversation = await findConversation(ctx, nameOrId);
  const quoted = await findMessage(ctx, conversation, target);
  if (quoted.deleted !== undefined) throw new ParleyError("message_deleted", { id: quoted.id });
  return send(ctx, conversation.id, text, { quote: quoted.id });
}

/** Puts `emoji` on a message (replacing ours), or takes ours away (`null`). */
export function react(
  ctx: ClientContext,
  nameOrId: string,
  target: string,
  emoji: string | null,
): Promise<MessageView> {
  if (emoji !== null && !isReactionEmoji(emoji)) throw new ParleyError("bad_reaction", {});
  return change(ctx, nameOrId, target, { kind: "reaction", emoji });
}

/** Replaces the text of one of our messages (a file message: its caption). */
export function editMessage(
  ctx: ClientContext,
  nameOrId: string,
  target: string,
  text: string,
): Promise<MessageView> {
  if (text.length === 0) throw new ParleyError("empty", { what: "text" });
  requireWithinLength(text, MAX_TEXT_LENGTH);
  return change(ctx, nameOrId, target, { kind: "edit", text });
}

/** Deletes one of our messages for everyone: its text leaves every device's store. */
export function deleteMessage(ctx: ClientContext, nameOrId: string, target: string): Promise<MessageView> {
  return change(ctx, nameOrId, target, { kind: "delete" });
}

async function change(
  ctx: ClientContext,
  nameOrId: string,
  targetRef: string,
  wanted: MessageChange,
): Promise<MessageView> {
  const profile = await requireProfile(ctx);
  const found = await findConversation(ctx, nameOrId);
  const target = await findMessage(ctx, found, targetRef);
  const id = randomId(ctx);
  const { conversation, changed } = await ctx.lock.run(async () => {
    const conversation = await requireSendable(ctx, found.id);
    const sentAt = ctx.sealingTime();
    const message = await ctx.repo.message(target.conversationId, target.id);
    if (!message) throw new ParleyError("unknown_message", { id: target.id });
    if (message.deleted !== undefined) throw new ParleyError("message_deleted", { id: message.id });
    if (
      wanted.kind !== "reaction" &&
      authorOf(message, profile.identityPublicKey) !== profile.identityPublicKey
    )
      throw new ParleyError("not_your_message", { action: wanted.kind });
    if (wanted.kind === "edit" && message.file) requireWithinLength(wanted.text, MAX_CAPTION_LENGTH);
    const change: MessageChange =
      wanted.kind === "edit" && conversation.kind === "group"
        ? { ...wanted, mentions: await mentionsOf(ctx, conversation, wanted.text) }
        : wanted;
    const changed = applyChange(
      message,
      profile.identityPublicKey,
      profile.identityPublicKey,
      sentAt,
      change,
    );
    const body = bodyOf(message.id, change);
    await sealIntoOutbox(ctx, conversation, body, id, sentAt, orderKey(ctx, id, sentAt), (batch) => {
      if (changed && changed !== "forged") ctx.repo.putMessage(batch, changed);
    });
    return { conversation, changed: changed && changed !== "forged" ? changed : message };
  });
  const { outcomes } = await deliverOutbox(ctx, { conversationId: conversation.id, now: true });
  const outcome = outcomes.get(id);
  if (outcome?.status === "failed") throw outcome.error;
  const current = await ctx.repo.message(changed.conversationId, changed.id);
  return messageView(ctx, current ?? changed, conversation);
}

function bodyOf(target: string, change: MessageChange): Body {
  switch (change.kind) {
    case "edit":
      return {
        type: "edit",
        target,
        text: change.text,
        ...(change.mentions?.length ? { mentions: change.mentions } : {}),
      };
    case "delete":
      return { type: "delete", target };
    case "reaction":
      return { type: "reaction", target, emoji: change.emoji };
  }
}
