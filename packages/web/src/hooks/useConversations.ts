import type { ContactView, MessageView } from "@parley/core";
import { useCallback, useEffect, useState } from "react";
import {
  byRecent,
  type ConversationSummary,
  summaryOf,
  totalUnread,
  withIncoming,
  withOpened,
  withSent,
} from "../conversations";
import type { Session } from "../session";
import { type Report, useLatest } from "./useNotice";

/** How many of a conversation's newest messages are scanned to count the unread ones. */
const UNREAD_SCAN = 200;

/**
 * The conversation list (contacts' chats and groups, newest first, with previews and unread counts)
 * and the contacts, loaded from the engine and kept current by messages, sends and refreshes.
 */
export function useConversations(session: Session, selectedId: string | null, report: Report) {
  const client = session.client;
  const [conversations, setConversations] = useState<ConversationSummary[]>([]);
  const [contacts, setContacts] = useState<ContactView[]>([]);
  const [loaded, setLoaded] = useState(false);
  const selectedRef = useLatest(selectedId);
  const conversationsRef = useLatest(conversations);

  /** Rejects when the engine or the store fails: callers that wait on it show why. */
  const reload = useCallback(async () => {
    const [views, contactList] = await Promise.all([client.conversations(), client.contacts()]);
    const byId = new Map(contactList.map((c) => [c.id, c]));
    const summaries = await Promise.all(
      views.map(async (view) => {
        const [recent, lastRead, [newestLine]] = await Promise.all([
          client.messages(view.id, UNREAD_SCAN),
          session.lastRead(view.id),
          view.kind === "group" ? session.systemLines(view.id, 1) : Promise.resolve([]),
        ]);
        const contact = view.contactId ? byId.get(view.contactId) : undefined;
        return summaryOf({
          view,
          contact,
          recent,
          lastRead,
          newestLine,
          open: view.id === selectedRef.current,
        });
      }),
    );
    setContacts(contactList);
    setConversations(summaries.sort(byRecent));
    setLoaded(true);
  }, [client, session, selectedRef]);

  /** A refresh nobody waits for (an event, a verification): a failure goes to the banner. */
  const refresh = useCallback(
    (): Promise<void> => reload().catch((e: unknown) => report("refresh-conversations", e)),
    [reload, report],
  );

  useEffect(() => {
    reload().catch((e: unknown) => report("load-conversations", e));
  }, [reload, report]);

  // Opening a conversation reads it.
  useEffect(() => {
    if (selectedId) setConversations((all) => withOpened(all, selectedId));
  }, [selectedId]);

  /** A message arrived; `open`: its conversation is on screen, so it is read. */
  const onMessage = useCallback(
    (m: MessageView, open: boolean) => {
      if (!conversationsRef.current.some((c) => c.id === m.conversationId)) {
        // A conversation the list has not caught up with yet (a group just joined).
        void refresh();
        return;
      }
      setConversations((all) => withIncoming(all, m, open));
    },
    [conversationsRef, refresh],
  );

  const onSent = useCallback((conversationId: string, text: string, sentAt: string) => {
    setConversations((all) => withSent(all, conversationId, text, sentAt));
  }, []);

  // The tab title shows how many messages wait unread, as messengers do.
  const unread = totalUnread(conversations);
  useEffect(() => {
    document.title = unread > 0 ? `(${unread}) Parley` : "Parley";
    return () => {
      document.title = "Parley";
    };
  }, [unread]);

  return { conversations, contacts, loaded, reload, refresh, onMessage, onSent };
}
