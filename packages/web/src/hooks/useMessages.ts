import { isParleyError, type MessageView, type PersonRef } from "@parley/core";
import { useCallback, useEffect, useState } from "react";
import {
  type ConversationSummary,
  newestReceived,
  pendingMessage,
  receivedAtMs,
  withDelivered,
  withLines,
  withMessage,
  withRead,
  withTakenByRelay,
} from "../conversations";
import { fileSource, thumbnailOf } from "../files";
import type { Failed } from "../groups";
import type { SystemLine } from "../lines";
import { withUpdated } from "../messages";
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
  const messagesRef = useLatest(messages);

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

  const onRead = useCallback(
    (conversationId: string, ids: string[], by: PersonRef) => {
      if (selectedRef.current === conversationId) setMessages((list) => withRead(list, ids, by));
    },
    [selectedRef],
  );

  const onSent = useCallback(
    (conversationId: string, ids: string[]) => {
      if (selectedRef.current === conversationId) setMessages((list) => withTakenByRelay(list, ids));
    },
    [selectedRef],
  );

  /**
   * A message changed (edited, deleted, a reaction): replaced in place if its conversation is open.
   * Replies quoting it show it from history, so those are reloaded too.
   */
  const onUpdated = useCallback(
    (m: MessageView) => {
      if (selectedRef.current !== m.conversationId) return;
      setMessages((list) => withUpdated(list, m));
      if (messagesRef.current.some((x) => x.quote?.id === m.id))
        void reload(m.conversationId).catch((e: unknown) => report("load-messages", e));
    },
    [selectedRef, messagesRef, reload, report],
  );

  /**
   * Reacts to, edits or deletes a message (`act` calls the engine), then shows the store's copy.
   * Never rejects: a failure is reported (the banner says why).
   */
  const change = useCallback(
    async (conversationId: string, act: () => Promise<MessageView>, what: Failed): Promise<void> => {
      try {
        const changed = await act();
        if (selectedRef.current === conversationId) setMessages((list) => withUpdated(list, changed));
      } catch (e) {
        report(what, e);
      }
      if (selectedRef.current === conversationId)
        await reload(conversationId).catch((e: unknown) => report("load-messages", e));
    },
    [selectedRef, reload, report],
  );
  const react = useCallback(
    (c: ConversationSummary, target: MessageView, emoji: string | null) =>
      change(c.id, () => client.react(c.id, target.id, emoji), "react"),
    [client, change],
  );
  const edit = useCallback(
    (c: ConversationSummary, target: MessageView, text: string) =>
      change(c.id, () => client.editMessage(c.id, target.id, text), "edit"),
    [client, change],
  );
  const remove = useCallback(
    (c: ConversationSummary, target: MessageView) =>
      change(c.id, () => client.deleteMessage(c.id, target.id), "delete-message"),
    [client, change],
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
      replyTo?: MessageView,
    ): Promise<void> => {
      const pendingId = `pending-${Date.now()}-${Math.random()}`;
      const pending = pendingMessage(c, text, myName, new Date(), pendingId);
      if (replyTo)
        pending.quote = {
          id: replyTo.id,
          from: replyTo.from,
          text: replyTo.text,
          fileName: replyTo.file?.name ?? null,
          missing: false,
          deleted: false,
        };
      setMessages((list) => [...list, pending]);
      try {
        onSent(await (replyTo ? client.reply(c.id, replyTo.id, text) : client.send(c.id, text)));
      } catch (e) {
        report("send", e);
      }
      // The store is the truth (a receipt may already have marked it delivered; a failed send is gone).
      if (selectedRef.current === c.id) await reload(c.id).catch((e: unknown) => report("load-messages", e));
    },
    [client, selectedRef, reload, report],
  );

  const [uploads, setUploads] = useState<
    { id: string; conversationId: string; name: string; progress: number }[]
  >([]);

  /**
   * Sends a file (type checked, image metadata stripped, encrypted, uploaded once), with a progress
   * bar meanwhile. Never rejects: a failure is reported.
   */
  const sendFile = useCallback(
    async (c: ConversationSummary, file: File, onSent: (sent: MessageView) => void): Promise<void> => {
      const id = `upload-${Date.now()}-${Math.random()}`;
      setUploads((list) => [...list, { id, conversationId: c.id, name: file.name, progress: 0 }]);
      try {
        const thumbnail = await thumbnailOf(file);
        const send = (keepMetadata: boolean) =>
          client.sendFile(c.id, {
            source: fileSource(file),
            name: file.name,
            ...(file.type ? { mime: file.type } : {}),
            ...(thumbnail ? { thumbnail } : {}),
            sourceId: `${file.name}|${file.size}|${file.lastModified}`,
            keepMetadata,
            onProgress: ({ sent, total }) =>
              setUploads((list) =>
                list.map((u) => (u.id === id ? { ...u, progress: total ? sent / total : 1 } : u)),
              ),
          });
        let sent: Awaited<ReturnType<typeof send>>;
        try {
          sent = await send(false);
        } catch (e) {
          // A picture whose metadata cannot be removed (HEIC…): sent with it only if the person says so.
          if (!isParleyError(e, "metadata_not_removable")) throw e;
          const what =
            e.data.reason === "format"
              ? `${file.name} is a ${e.data.type.toUpperCase()} picture: Parley cannot remove its metadata`
              : `${file.name} is too large for Parley to remove its metadata`;
          if (
            !window.confirm(
              `${what} (where it was taken, the camera, the time). Send it with its metadata anyway?`,
            )
          )
            return;
          sent = await send(true);
        }
        onSent(sent.message);
      } catch (e) {
        report("send-file", e);
      } finally {
        setUploads((list) => list.filter((u) => u.id !== id));
      }
      if (selectedRef.current === c.id) await reload(c.id).catch((e: unknown) => report("load-messages", e));
    },
    [client, selectedRef, reload, report],
  );

  const visibleUploads = uploads.filter((u) => u.conversationId === selectedId);
  return {
    messages,
    lines,
    /** Reads the open conversation's history again (messages a timer deleted are gone). */
    reloadOpen: () => (selectedRef.current ? reload(selectedRef.current) : Promise.resolve()),
    addLines,
    onMessage,
    onDelivered,
    onRead,
    onSent,
    onUpdated,
    send,
    react,
    edit,
    remove,
    sendFile,
    uploads: visibleUploads,
  };
}
