/**
 * Edits, deletions and reactions: what each does to a stored message, by whom it is allowed, and
 * in which order they win. Used on both sides: the sender applies its own change when it sends it
 * (messages/actions.ts), a receiver when it arrives (inbox/handlers/edit.ts, delete.ts,
 * reaction.ts) or when the message it is for arrives after it (inbox/history.ts).
 *
 * Rules (docs/03-content.md):
 * - only a message's author may edit or delete it: the MLS-authenticated sender of the change must
 *   be the message's sender (for our own messages, us); anything else is a forgery;
 * - a deleted message stays deleted: later (or late) edits and reactions change nothing;
 * - the newest edit wins, by its author's clock; a reaction replaces that person's earlier one, by
 *   their clock, so changes applied in any order end in the same state.
 */
import type { Mention } from "../../content/message-ref.js";
import type { MessageChange, MessageRecord } from "../../store/records.js";

/** The identity key of a message's author: its sender's, or `self` for our own messages. */
export const authorOf = (m: MessageRecord, self: string): string | null =>
  m.fromMe ? self : m.senderIdentity;

/** Only mentions that point inside the text, in order and not overlapping. */
export function mentionsIn(text: string, mentions: Mention[] | undefined): Mention[] | undefined {
  if (!mentions) return undefined;
  const kept: Mention[] = [];
  let after = 0;
  for (const m of [...mentions].sort((a, b) => a.start - b.start)) {
    if (m.start < after || m.end <= m.start || m.end > text.length) continue;
    kept.push({ key: m.key, start: m.start, end: m.end });
    after = m.end;
  }
  return kept.length ? kept : undefined;
}

/**
 * `message` after `by` applied `change` at `at` (the sender's clock): the new record, `"forged"`
 * when `by` may not make this change, or undefined when it changes nothing (the message is
 * deleted, or a newer change of the same kind by the same person is already applied).
 */
export function applyChange(
  message: MessageRecord,
  self: string,
  by: string,
  at: number,
  change: MessageChange,
): MessageRecord | "forged" | undefined {
  if (change.kind !== "reaction" && by !== authorOf(message, self)) return "forged";
  if (message.deleted !== undefined) return undefined;
  switch (change.kind) {
    case "delete": {
      const { file: _f, quote: _q, mentions: _m, reactions: _r, edited: _e, ...kept } = message;
      return { ...kept, text: "", deleted: at };
    }
    case "edit": {
      if (message.edited !== undefined && message.edited >= at) return undefined;
      const { mentions: _m, ...kept } = message;
      const mentions = mentionsIn(change.text, change.mentions);
      return {
        ...kept,
        text: change.text,
        edited: at,
        ...(mentions ? { mentions } : {}),
        // A file message's text is its caption.
        ...(message.file ? { file: { ...message.file, caption: change.text } } : {}),
      };
    }
    case "reaction": {
      const earlier = message.reactions?.[by];
      if (earlier && earlier.at >= at) return undefined;
      return { ...message, reactions: { ...message.reactions, [by]: { emoji: change.emoji, at } } };
    }
  }
}

/** The kind of change as events and views name it. */
export const changeName = (c: MessageChange): "edited" | "deleted" | "reaction" =>
  c.kind === "edit" ? "edited" : c.kind === "delete" ? "deleted" : "reaction";
