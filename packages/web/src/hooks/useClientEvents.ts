import type { ClientEvent, MessageView, PersonRef } from "@parley/core";
import { useEffect, useState } from "react";
import { eventNotice } from "../groups";
import type { LineEvent } from "../lines";
import type { Session } from "../session";
import { useLatest } from "./useNotice";

/** "retrying": a connection was lost or never made, and the app tries again by itself. */
export type Connection = "connecting" | "retrying" | "open" | "closed";
export type GroupEvent = Extract<ClientEvent, { type: "group" }>;

/** What the app does with each kind of live event (see `useClientEvents`). */
export interface EventHandlers {
  message(m: MessageView): void;
  /** A message was edited, deleted, or reacted to. */
  updated(m: MessageView): void;
  group(event: GroupEvent): void;
  delivered(conversationId: string, ids: string[]): void;
  /** `by` read these messages of ours (a read receipt). */
  read(conversationId: string, ids: string[], by: PersonRef): void;
  /** `by` is typing in the conversation (or stopped). */
  typing(conversationId: string, by: PersonRef, typing: boolean): void;
  /** Messages that waited in the outbox and that the relay has now taken. */
  sent(conversationId: string, ids: string[]): void;
  /** A contact was added, renamed, or changed keys. */
  contact(): void;
  /** Something the person should know (a dropped message): the banner. */
  notice(text: string): void;
  /** Something that belongs in a chat, between its messages (messages that never arrived). */
  line(conversationId: string, line: LineEvent): void;
  /** A disappearing-messages timer changed (`expire`) or deleted messages (`expired`). */
  expiry(event: Extract<ClientEvent, { type: "expire" | "expired" }>): void;
  /** The feed changed: a post, comment or like arrived, or a post was deleted. */
  post(event: PostEvent): void;
  /** Someone asked to join a group of ours through its link and waits for approval. */
  joinRequest(event: Extract<ClientEvent, { type: "join-request" }>): void;
}
export type PostEvent = Extract<ClientEvent, { type: "post" }>;

/**
 * Runs the engine's live delivery for this session and sends each event where it belongs. Returns the
 * connection status for the top bar. Events that fix themselves (a receipt not sent, a queue renewed,
 * a relay hiccup) go to the console only, by `eventNotice`'s rules.
 */
export function useClientEvents(session: Session, handlers: EventHandlers): Connection {
  const [connection, setConnection] = useState<Connection>("connecting");
  const latest = useLatest(handlers);

  useEffect(() => {
    session.listen((event) => {
      const on = latest.current;
      switch (event.type) {
        case "status":
          // "connecting" with a reason is a retry after a failure: the relay cannot be reached.
          return setConnection(event.status === "connecting" && event.detail ? "retrying" : event.status);
        case "message":
          return on.message(event.message);
        case "updated":
          return on.updated(event.message);
        case "group":
          return on.group(event);
        case "delivered":
          return on.delivered(event.conversationId, event.ids);
        case "read":
          return on.read(event.conversationId, event.ids, event.by);
        case "typing":
          return on.typing(event.conversationId, event.by, event.typing);
        case "sent":
          return on.sent(event.conversationId, event.ids);
        case "contact":
          return on.contact();
        case "expire":
        case "expired":
          return on.expiry(event);
        case "post":
          return on.post(event);
        case "join-request":
          return on.joinRequest(event);
        case "rejected":
        case "warning":
        case "failure": {
          const said = eventNotice(event);
          if ("notice" in said) on.notice(said.notice);
          else if ("line" in said) on.line(said.conversationId, said.line);
          else console.warn("parley:", said.console);
          return;
        }
      }
    });
  }, [session, latest]);

  return connection;
}
