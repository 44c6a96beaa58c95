import type { MessageView, ParleyClient } from "@parley/core";
import { type ReactNode, useState } from "react";
import { useTranslation } from "react-i18next";
import type { ConversationSummary } from "../conversations";
import { formatListTime, initials } from "../format";
import { t as translate } from "../i18n";
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
    if (c.status === "removed") return translate("chat.removed");
    if (c.status === "left") return translate("chat.left");
    if (c.status === "needs-readd") return translate("chat.needsReadd");
    return translate("sidebar.noMessages");
  }
  return c.canSend ? translate("sidebar.noMessages") : translate("common.connecting");
}

export function ConversationList(props: {
  conversations: ConversationSummary[];
  loaded: boolean;
  selectedId: string | null;
  onSelect: (id: string) => void;
}) {
  const { t } = useTranslation();
  const [showArchived, setShowArchived] = useState(false);
  if (props.loaded && props.conversations.length === 0) {
    return <p className="muted list-empty">{t("sidebar.empty")}</p>;
  }
  // The open chat stays in view even when archived, so that archiving it does not yank it away.
  const listed = props.conversations.filter((c) => !c.archived || c.id === props.selectedId);
  const archived = props.conversations.filter((c) => c.archived && c.id !== props.selectedId);
  return (
    <nav aria-label={t("sidebar.conversations")}>
      <ConversationRows rows={listed} selectedId={props.selectedId} onSelect={props.onSelect} />
      {archived.length > 0 && (
        <>
          <button
            type="button"
            className="link-button archived-toggle"
            aria-expanded={showArchived}
            onClick={() => setShowArchived(!showArchived)}
          >
            {showArchived ? t("sidebar.hideArchived") : t("sidebar.archived", { count: archived.length })}
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
  const { t } = useTranslation();
  return (
    <ul className="conversation-list">
      {props.rows.map((c) => {
        const unreadLabel = t("sidebar.unread", { count: c.unread });
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
              ) : c.photo ? (
                <img className="avatar avatar-photo" src={c.photo} alt="" />
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
                  {c.kind === "group" && <span className="sr-only">{t("sidebar.group")}</span>}
                  {c.keyChanged && <span className="tag tag-warn">{t("sidebar.keyChanged")}</span>}
                  {!c.keyChanged && c.verified && <span className="tag tag-ok">{t("sidebar.verified")}</span>}
                  {c.muted && <span className="tag">{t("sidebar.muted")}</span>}
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
  const { t } = useTranslation();
  return (
    <aside className="sidebar">
      {props.header}
      <div className="sidebar-actions">
        <button type="button" className="primary" onClick={props.onInvite}>
          {t("sidebar.invite")}
        </button>
        <button type="button" onClick={props.onAddContact}>
          {t("sidebar.addContact")}
        </button>
      </div>
      <div className="list-head">
        <h2 className="list-title">{t("sidebar.chats")}</h2>
        <button type="button" className="small-button" onClick={props.onNewGroup}>
          <span aria-hidden="true">+ </span>
          {t("sidebar.newGroup")}
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
