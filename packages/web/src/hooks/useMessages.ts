import type { MessageView } from "@parley/core";
import { useCallback, useEffect, useState } from "react";
import {
  type ConversationSummary,
  newestReceived,
  pendingMessage,
  receivedAtMs,
  withDelivered,
  withLines,
  withMessage,
  withTakenByRelay,
} from "../conversations";
import type { SystemLine } from "../groups";
import type { Session } from "../session";
import { type Report, useLatest } from "./useNotice";

const HISTORY_LIMIT = 500;

/**
 * The open conversation's history: its messages and (groups) the lines between them, loaded when it
 * is opened, kept current by live events, and the send with its "Sending…" bubble.
 */
export function useMessages(session: Session, selectedId: string | null, report: Report) {
  const client = session.client;
  const [messages, setMessages] = useState<MessageView[]>([]);
  const [lines, setLines] = useState<SystemLine[]>([]);
  const selectedRef = useLatest(selectedId);

  /** Loads the history and marks it read; rejects when the engine or the store fails. */
  const reload = useCallback(
    async (conversationId: string) => {
      const [history, systemLines] = await Promise.all([
        client.messages(conversationId, HISTORY_LIMIT),
        session.systemLines(conversationId),
      ]);
      if (selectedRef.current !== conversationId) return;
      setMessages(history);
      setLines(systemLines);
      const newest = newestReceived(history);
      if (newest > 0) await session.markRead(conversationId, newest);
    },
    [client, session, selectedRef],
  );

  useEffect(() => {
    if (!selectedId) {
      setMessages([]);
      setLines([]);
      return;
    }
    reload(selectedId).catch((e: unknown) => report("load-messages", e));
  }, [selectedId, reload, report]);

  /** A live message: shown (and read) if its conversation is open. Says whether it was. */
  const onMessage = useCallback(
    (m: MessageView): boolean => {
      if (selectedRef.current !== m.conversationId) return false;
      setMessages((list) => withMessage(list, m));
      if (!m.fromMe) session.markRead(m.conversationId, receivedAtMs(m)).catch((e) => report("mark-read", e));
      return true;
    },
    [session, selectedRef, report],
  );

  const onDelivered = useCallback(
    (conversationId: string, ids: string[]) => {
      if (selectedRef.current === conversationId) setMessages((list) => withDelivered(list, ids));
    },
    [selectedRef],
  );

  const onSent = useCallback(
    (conversationId: string, ids: string[]) => {
      if (selectedRef.current === conversationId) setMessages((list) => withTakenByRelay(list, ids));
    },
    [selectedRef],
  );

  /** Lines written for a conversation: shown if it is open. */
  const addLines = useCallback(
    (conversationId: string, added: SystemLine[]) => {
      if (selectedRef.current === conversationId) setLines((list) => withLines(list, added));
    },
    [selectedRef],
  );

  /**
   * Sends `text`, showing it as "Sending…" meanwhile; `onSent` runs once the engine stored it. If
   * the relay cannot be reached the message stays "Sending…" and the outbox sends it later (a
   * `sent` event). Never rejects: a failure is reported (the banner says why).
   */
  const send = useCallback(
    async (
      c: ConversationSummary,
      text: string,
      myName: string,
      onSent: (sent: MessageView) => void,
    ): Promise<void> => {
      const pendingId = `pending-${Date.now()}-${Math.random()}`;
      setMessages((list) => [...list, pendingMessage(c, text, myName, new Date(), pendingId)]);
      try {
        onSent(await client.send(c.id, text));
      } catch (e) {
        report("send", e);
      }
      // The store is the truth (a receipt may already have marked it delivered; a failed send is gone).
      if (selectedRef.current === c.id) await reload(c.id).catch((e: unknown) => report("load-messages", e));
    },
    [client, selectedRef, reload, report],
  );

  return { messages, lines, addLines, onMessage, onDelivered, onSent, send };
}
