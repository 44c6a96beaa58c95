import type { MessageView, ParleyClient } from "@parley/core";
import { type ReactNode, useState } from "react";
import type { ConversationSummary } from "../conversations";
import { formatListTime, initials } from "../format";
import { MessageSearch } from "./MessageSearch";

/** Two figures, one behind the other: a group, as opposed to one person's initials. */
export function GroupIcon() {
  return (
    <svg width="24" height="24" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      <circle cx="16.2" cy="8.6" r="3" fill="currentColor" opacity="0.5" />
      <path d="M12.6 19.6c.3-3.1 2.1-5.3 4.6-5.3 2.8 0 4.6 2.3 4.6 5.3z" fill="currentColor" opacity="0.5" />
      <circle cx="9" cy="8" r="3.6" fill="currentColor" />
      <path d="M2.4 20c0-3.9 2.9-6.6 6.6-6.6s6.6 2.7 6.6 6.6z" fill="currentColor" />
    </svg>
  );
}

function fallbackPreview(c: ConversationSummary): string {
  if (c.kind === "group") {
    if (c.status === "removed") return "You were removed from this group";
    if (c.status === "left") return "You left this group";
    if (c.status === "needs-readd") return "Needs you to be re-added";
    return "No messages yet";
  }
  return c.canSend ? "No messages yet" : "Connecting…";
}

export function ConversationList(props: {
  conversations: ConversationSummary[];
  loaded: boolean;
  selectedId: string | null;
  onSelect: (id: string) => void;
}) {
  const [showArchived, setShowArchived] = useState(false);
  if (props.loaded && props.conversations.length === 0) {
    return <p className="muted list-empty">Your conversations will appear here.</p>;
  }
  // The open chat stays in view even when archived, so that archiving it does not yank it away.
  const listed = props.conversations.filter((c) => !c.archived || c.id === props.selectedId);
  const archived = props.conversations.filter((c) => c.archived && c.id !== props.selectedId);
  return (
    <nav aria-label="Conversations">
      <ConversationRows rows={listed} selectedId={props.selectedId} onSelect={props.onSelect} />
      {archived.length > 0 && (
        <>
          <button
            type="button"
            className="link-button archived-toggle"
            aria-expanded={showArchived}
            onClick={() => setShowArchived(!showArchived)}
          >
            {showArchived ? "Hide archived" : `Archived (${archived.length})`}
          </button>
          {showArchived && (
            <ConversationRows rows={archived} selectedId={props.selectedId} onSelect={props.onSelect} />
          )}
        </>
      )}
    </nav>
  );
}

function ConversationRows(props: {
  rows: ConversationSummary[];
  selectedId: string | null;
  onSelect: (id: string) => void;
}) {
  return (
    <ul className="conversation-list">
      {props.rows.map((c) => {
        const unreadLabel = c.unread === 1 ? "1 unread message" : `${c.unread} unread messages`;
        return (
          <li key={c.id}>
            <button
              type="button"
              className={c.id === props.selectedId ? "conversation active" : "conversation"}
              aria-current={c.id === props.selectedId ? "true" : undefined}
              onClick={() => props.onSelect(c.id)}
            >
              {c.kind === "group" ? (
                <span className="avatar avatar-group" aria-hidden="true">
                  <GroupIcon />
                </span>
              ) : (
                <span className="avatar" aria-hidden="true">
                  {initials(c.title)}
                </span>
              )}
              <span className="conversation-text">
                <span className="conversation-top">
                  <span className="conversation-name" dir="auto">
                    {c.title}
                  </span>
                  {c.kind === "group" && <span className="sr-only">(group)</span>}
                  {c.keyChanged && <span className="tag tag-warn">key changed</span>}
                  {!c.keyChanged && c.verified && <span className="tag tag-ok">verified</span>}
                  {c.muted && <span className="tag">muted</span>}
                  <span className="spacer" />
                  {c.lastAt && <span className="conversation-time">{formatListTime(c.lastAt)}</span>}
                </span>
                <span className="conversation-bottom">
                  <span className="conversation-preview" dir="auto">
                    {c.preview ?? fallbackPreview(c)}
                  </span>
                  {c.unread > 0 && (
                    <span className="unread" role="status" aria-label={unreadLabel} title={unreadLabel}>
                      {c.unread}
                    </span>
                  )}
                </span>
              </span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}

/** The left column: invite, add a contact, new group, and the list. */
export function Sidebar(props: {
  conversations: ConversationSummary[];
  loaded: boolean;
  selectedId: string | null;
  onSelect: (id: string) => void;
  onInvite: () => void;
  onAddContact: () => void;
  onNewGroup: () => void;
  client: ParleyClient;
  onOpenMessage: (m: MessageView) => void;
  onError: (e: unknown) => void;
  /** Above the list: the Chats/Feed switch. */
  header?: ReactNode;
}) {
  return (
    <aside className="sidebar">
      {props.header}
      <div className="sidebar-actions">
        <button type="button" className="primary" onClick={props.onInvite}>
          Invite someone
        </button>
        <button type="button" onClick={props.onAddContact}>
          Add contact
        </button>
      </div>
      <div className="list-head">
        <h2 className="list-title">Chats</h2>
        <button type="button" className="small-button" onClick={props.onNewGroup}>
          <span aria-hidden="true">+ </span>New group
        </button>
      </div>
      <MessageSearch client={props.client} onOpen={props.onOpenMessage} onError={props.onError}>
        <ConversationList
          conversations={props.conversations}
          loaded={props.loaded}
          selectedId={props.selectedId}
          onSelect={props.onSelect}
        />
      </MessageSearch>
    </aside>
  );
}
