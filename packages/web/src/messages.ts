/**
 * Pure helpers for what one does to messages in the open chat (replies, reactions, edits, deletions,
 * @mentions): how a message's text splits around its mentions, what a quote says, which members an
 * "@…" being typed can mean. No React, no engine calls; tested in units.test.ts.
 */
import type { GroupMemberView, MessageView, QuoteView } from "@parley/core";
import { personName } from "./groups.js";
import { t } from "./i18n.js";

/** The reactions offered by the picker (any one emoji is accepted from others). */
export const COMMON_REACTIONS = ["👍", "❤️", "😂", "😮", "😢", "🎉"] as const;

/** A run of a message's text: plain, or an "@Name" mention (of us: `me`). */
export type TextPart = { text: string; mention?: { me: boolean } };

/** The text cut at its mentions (ranges the engine checked: inside the text, in order). */
export function textParts(m: Pick<MessageView, "text" | "mentions">): TextPart[] {
  const parts: TextPart[] = [];
  let at = 0;
  for (const mention of m.mentions ?? []) {
    if (mention.start < at || mention.end > m.text.length) continue;
    if (mention.start > at) parts.push({ text: m.text.slice(at, mention.start) });
    parts.push({
      text: m.text.slice(mention.start, mention.end),
      mention: { me: mention.person.relation === "me" },
    });
    at = mention.end;
  }
  if (at < m.text.length || parts.length === 0) parts.push({ text: m.text.slice(at) });
  return parts;
}

/** What a quote shows: who wrote the message answered, and its start (or why there is none). */
export function quoteSummary(q: QuoteView): { who: string; text: string } {
  if (q.missing) return { who: "", text: t("message.notAvailable") };
  const who = q.from ? (q.from.relation === "me" ? t("common.you") : personName(q.from)) : "";
  if (q.deleted) return { who, text: t("message.deleted") };
  const text = q.text || (q.fileName ? t("message.file", { name: q.fileName }) : "");
  return { who, text: text.length > 120 ? `${text.slice(0, 119)}…` : text };
}

/** A message's text for the composer's "Replying to" line, the list's preview, an aria label. */
export function shortText(m: Pick<MessageView, "text" | "file" | "deleted">, max = 80): string {
  if (m.deleted) return t("message.deleted");
  const text = m.text || (m.file ? t("message.file", { name: m.file.name }) : "");
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * The "@…" being typed just before the caret, if any: where it starts and what follows the "@"
 * (the start of a name, no line break). An "@" inside a word (an e-mail address) is none.
 */
export function mentionQuery(draft: string, caret: number): { start: number; query: string } | null {
  const before = draft.slice(0, caret);
  const at = before.lastIndexOf("@");
  if (at === -1) return null;
  if (at > 0 && /[\p{L}\p{N}_]/u.test(before[at - 1]!)) return null;
  const query = before.slice(at + 1);
  if (/[\n@]/.test(query) || query.length > 64 || /\s\s/.test(query)) return null;
  return { start: at, query };
}

/** Members (not us) whose name starts with `query` (case-insensitive), at most `max`. */
export function mentionCandidates(members: GroupMemberView[], query: string, max = 6): GroupMemberView[] {
  const q = query.toLowerCase();
  return members.filter((m) => !m.isMe && m.name && m.name.toLowerCase().startsWith(q)).slice(0, max);
}

/** The draft with the "@…" at `start` (up to the caret) replaced by "@Name ". */
export function insertMention(
  draft: string,
  start: number,
  caret: number,
  name: string,
): { draft: string; caret: number } {
  const inserted = `@${name} `;
  return { draft: draft.slice(0, start) + inserted + draft.slice(caret), caret: start + inserted.length };
}

/** The list with `m` in place of the message with its id (an edit, a deletion, a reaction). */
export function withUpdated(list: MessageView[], m: MessageView): MessageView[] {
  return list.map((x) => (x.id === m.id ? m : x));
}

/** Whether our reaction on `m` is `emoji` (then picking it again takes it back). */
export const myReaction = (m: MessageView): string | null => m.reactions?.find((r) => r.mine)?.emoji ?? null;
