import { formatListTime, initials } from "../format";

/** One row of the list: a 1:1 conversation now; a group (kind "group") once core has them. */
export interface ConversationSummary {
  id: string; // conversation id
  kind: "direct" | "group";
  contactId: string;
  title: string;
  verified: boolean;
  keyChanged: boolean;
  canSend: boolean;
  preview: string | null;
  lastAt: string | null;
  unread: number;
}

export function ConversationList(props: {
  conversations: ConversationSummary[];
  loaded: boolean;
  selectedId: string | null;
  onSelect: (id: string) => void;
}) {
  if (props.loaded && props.conversations.length === 0) {
    return <p className="muted list-empty">Your conversations will appear here.</p>;
  }
  return (
    <nav aria-label="Conversations">
      <ul className="conversation-list">
        {props.conversations.map((c) => {
          const unreadLabel = c.unread === 1 ? "1 unread message" : `${c.unread} unread messages`;
          return (
            <li key={c.id}>
              <button
                type="button"
                className={c.id === props.selectedId ? "conversation active" : "conversation"}
                aria-current={c.id === props.selectedId ? "true" : undefined}
                onClick={() => props.onSelect(c.id)}
              >
                <span className="avatar" aria-hidden="true">
                  {initials(c.title)}
                </span>
                <span className="conversation-text">
                  <span className="conversation-top">
                    <span className="conversation-name">{c.title}</span>
                    {c.keyChanged && <span className="tag tag-warn">key changed</span>}
                    {!c.keyChanged && c.verified && <span className="tag tag-ok">verified</span>}
                    <span className="spacer" />
                    {c.lastAt && <span className="conversation-time">{formatListTime(c.lastAt)}</span>}
                  </span>
                  <span className="conversation-bottom">
                    <span className="conversation-preview">
                      {c.preview ?? (c.canSend ? "No messages yet" : "Connecting…")}
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
    </nav>
  );
}
