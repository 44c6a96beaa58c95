/**
 * Local full-text search over this device's own history. The query never leaves the device: it is
 * matched against the store's index (KeyValueStore.search: SQLite FTS5 in the CLI, the encrypted
 * store's sealed index in the browser), which holds each message's current words only — an edit
 * replaces them, a deletion for everyone removes them (store/repository.ts, `searchableText`).
 */
import { ParleyError } from "../errors.js";
import type { ConversationRecord } from "../store/records.js";
import { type ClientContext, requireProfile } from "./context.js";
import { findConversation, historyIdOf, messageView } from "./lookup.js";
import type { MessageView } from "./views.js";

export interface SearchOptions {
  /** Only this conversation (a contact's or a group's name or id). */
  in?: string;
  /** At most this many, newest first (default 50). */
  limit?: number;
}

export const SEARCH_LIMIT = 50;

export async function searchMessages(
  ctx: ClientContext,
  query: string,
  options: SearchOptions,
): Promise<MessageView[]> {
  await requireProfile(ctx);
  const wanted = query.trim();
  if (wanted === "") throw new ParleyError("empty", { what: "query" });
  const within = options.in === undefined ? undefined : historyIdOf(await findConversation(ctx, options.in));
  const limit = options.limit ?? SEARCH_LIMIT;
  const found = await ctx.repo.searchMessages(wanted, within, limit);
  if (found === undefined) throw new ParleyError("search_unavailable", {});
  const conversations = new Map<string, ConversationRecord | undefined>();
  const views: MessageView[] = [];
  for (const m of found) {
    if (!conversations.has(m.conversationId))
      conversations.set(m.conversationId, await ctx.repo.conversation(m.conversationId));
    const conversation = conversations.get(m.conversationId);
    if (conversation) views.push(await messageView(ctx, m, conversation));
  }
  return views;
}
