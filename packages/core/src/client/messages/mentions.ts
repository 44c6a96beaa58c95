/**
 * "@Name" in a group message, resolved to members when it is sent: the text keeps what was typed,
 * the message carries who it means (identity keys) and where, so receivers need no name matching
 * of their own and a member renaming themselves later changes nothing.
 */
import type { Mention } from "../../content/message-ref.js";
import { MAX_MENTIONS } from "../../content/message-ref.js";
import type { GroupConversationRecord } from "../../store/records.js";
import { type ClientContext, requireProfile } from "../context.js";
import { groupMembersOf } from "../groups/members.js";
import { loadState } from "../mls-state.js";

const WORD = /[\p{L}\p{N}_]/u;

/**
 * The mentions in `text`: each "@" at the start or after a non-word character, followed by a
 * member's name (case-insensitive, the longest that fits) that ends the word. An "@" naming nobody
 * (an e-mail address, "@someone" not in the group) stays plain text.
 */
export function findMentions(text: string, members: { key: string; name: string }[]): Mention[] {
  const named = members.filter((m) => m.name.length > 0).sort((a, b) => b.name.length - a.name.length);
  const found: Mention[] = [];
  for (let i = text.indexOf("@"); i !== -1 && found.length < MAX_MENTIONS; i = text.indexOf("@", i + 1)) {
    if (i > 0 && WORD.test(text[i - 1]!)) continue;
    const rest = text.slice(i + 1).toLowerCase();
    const m = named.find((n) => {
      const name = n.name.toLowerCase();
      return rest.startsWith(name) && !WORD.test(rest[name.length] ?? "");
    });
    if (m) {
      found.push({ key: m.key, start: i, end: i + 1 + m.name.length });
      i += m.name.length;
    }
  }
  return found;
}

/** The mentions of `text` among the group's other members, as this device names them. */
export async function mentionsOf(
  ctx: ClientContext,
  conversation: GroupConversationRecord,
  text: string,
): Promise<Mention[]> {
  if (!text.includes("@")) return [];
  const profile = await requireProfile(ctx);
  const members = await groupMembersOf(
    ctx,
    conversation,
    await loadState(ctx, conversation.groupId),
    profile,
  );
  return findMentions(
    text,
    members.filter((m) => !m.isMe && m.name).map((m) => ({ key: m.identityKey, name: m.name! })),
  );
}
