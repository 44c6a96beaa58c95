import type { ClientEvent, ContactView, MessageView } from "@parley/core";
import { useCallback, useEffect, useRef, useState } from "react";
import type { Session } from "../session";
import { AddContactDialog } from "./AddContactDialog";
import { Logo } from "./Brand";
import { ChatView } from "./ChatView";
import { ConversationList, type ConversationSummary } from "./ConversationList";
import { Dialog } from "./Dialog";
import { InviteDialog } from "./InviteDialog";
import { SafetyNumberDialog } from "./SafetyNumberDialog";

type Connection = "connecting" | "open" | "closed";
type Overlay = "invite" | "add" | "safety" | "wipe" | "accept" | null;

const HISTORY_LIMIT = 500;
const UNREAD_SCAN = 200;

function receivedAtMs(m: MessageView): number {
  return m.receivedAt ? Date.parse(m.receivedAt) : 0;
}

export function Messenger(props: {
  session: Session;
  pendingInvite: string | null;
  onInviteHandled: () => void;
  onLocked: (notice?: string) => void;
  onWiped: () => void;
}) {
  const { session, pendingInvite, onInviteHandled } = props;
  const client = session.client;
  const [profileName, setProfileName] = useState("");
  const [conversations, setConversations] = useState<ConversationSummary[]>([]);
  const [loaded, setLoaded] = useState(false);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [messages, setMessages] = useState<MessageView[]>([]);
  const [connection, setConnection] = useState<Connection>("connecting");
  const [overlay, setOverlay] = useState<Overlay>(pendingInvite ? "accept" : null);
  const [notice, setNotice] = useState<string | null>(null);
  const [acceptError, setAcceptError] = useState<string | null>(null);
  const [accepting, setAccepting] = useState(false);

  const selectedRef = useRef<string | null>(null);
  selectedRef.current = selectedId;
  const selected = conversations.find((c) => c.id === selectedId) ?? null;

  // ---- loading ---------------------------------------------------------------------------------

  const summarize = useCallback(
    async (contact: ContactView): Promise<ConversationSummary> => {
      const recent = await client.messages(contact.conversationId, UNREAD_SCAN);
      const lastRead = await session.lastRead(contact.conversationId);
      const last = recent.at(-1);
      return {
        id: contact.conversationId,
        kind: "direct",
        contactId: contact.id,
        title: contact.name,
        verified: contact.verified,
        keyChanged: contact.keyChanged,
        canSend: contact.canSend,
        preview: last ? (last.fromMe ? `You: ${last.text}` : last.text) : null,
        lastAt: last ? (last.receivedAt ?? last.sentAt) : null,
        unread:
          contact.conversationId === selectedRef.current
            ? 0
            : recent.filter((m) => !m.fromMe && receivedAtMs(m) > lastRead).length,
      };
    },
    [client, session],
  );

  const reloadConversations = useCallback(async () => {
    const contacts = await client.contacts();
    const summaries = await Promise.all(contacts.map(summarize));
    summaries.sort(
      (a, b) => (b.lastAt ?? "").localeCompare(a.lastAt ?? "") || a.title.localeCompare(b.title),
    );
    setConversations(summaries);
    setLoaded(true);
  }, [client, summarize]);

  const reloadMessages = useCallback(
    async (conversationId: string) => {
      const history = await client.messages(conversationId, HISTORY_LIMIT);
      if (selectedRef.current !== conversationId) return;
      setMessages(history);
      const newest = Math.max(0, ...history.filter((m) => !m.fromMe).map(receivedAtMs));
      if (newest > 0) await session.markRead(conversationId, newest);
    },
    [client, session],
  );

  useEffect(() => {
    client
      .profile()
      .then((p) => setProfileName(p.name))
      .catch(() => {});
    reloadConversations().catch((e: Error) => setNotice(`Could not load your conversations: ${e.message}`));
  }, [client, reloadConversations]);

  useEffect(() => {
    if (!selectedId) {
      setMessages([]);
      return;
    }
    setConversations((all) => all.map((c) => (c.id === selectedId ? { ...c, unread: 0 } : c)));
    reloadMessages(selectedId).catch((e: Error) => setNotice(`Could not load messages: ${e.message}`));
  }, [selectedId, reloadMessages]);

  // ---- live events -----------------------------------------------------------------------------

  const onEvent = useCallback(
    (event: ClientEvent) => {
      switch (event.type) {
        case "status":
          setConnection(event.status);
          return;
        case "message": {
          const m = event.message;
          const open = selectedRef.current === m.conversationId;
          if (open) {
            setMessages((list) => (list.some((x) => x.id === m.id) ? list : [...list, m]));
            if (!m.fromMe) session.markRead(m.conversationId, receivedAtMs(m)).catch(() => {});
          }
          setConversations((all) => {
            const next = all.map((c) =>
              c.id === m.conversationId
                ? {
                    ...c,
                    preview: m.fromMe ? `You: ${m.text}` : m.text,
                    lastAt: m.receivedAt ?? m.sentAt,
                    unread: open || m.fromMe ? c.unread : c.unread + 1,
                  }
                : c,
            );
            return next.sort((a, b) => (b.lastAt ?? "").localeCompare(a.lastAt ?? ""));
          });
          return;
        }
        case "delivered": {
          if (selectedRef.current !== event.conversationId) return;
          const ids = new Set(event.ids);
          setMessages((list) => list.map((m) => (ids.has(m.id) ? { ...m, status: "delivered" } : m)));
          return;
        }
        case "contact":
          reloadConversations().catch(() => {});
          return;
        case "rejected":
          // Relay-level hiccups (a reconnect, a replayed command) are routine; a message that failed
          // verification is not, and the person should know something was dropped.
          if (event.reason.startsWith("relay")) console.warn("parley:", event.reason);
          else setNotice(`Parley dropped a message it could not verify: ${event.reason}`);
          return;
      }
    },
    [session, reloadConversations],
  );

  const onEventRef = useRef(onEvent);
  onEventRef.current = onEvent;
  useEffect(() => {
    session.listen((e) => onEventRef.current(e));
  }, [session]);

  // The tab title shows how many messages wait unread, as messengers do.
  const totalUnread = conversations.reduce((n, c) => n + c.unread, 0);
  useEffect(() => {
    document.title = totalUnread > 0 ? `(${totalUnread}) Parley` : "Parley";
    return () => {
      document.title = "Parley";
    };
  }, [totalUnread]);

  // ---- actions ---------------------------------------------------------------------------------

  async function send(text: string) {
    if (!selected) return;
    const conversationId = selected.id;
    const pendingId = `pending-${Date.now()}-${Math.random()}`;
    const now = new Date().toISOString();
    setMessages((list) => [
      ...list,
      {
        conversation: selected.title,
        conversationId,
        kind: selected.kind,
        id: pendingId,
        from: "me",
        fromMe: true,
        text,
        sentAt: now,
        receivedAt: null,
        status: "sending",
      },
    ]);
    try {
      const sent = await client.send(conversationId, text);
      setConversations((all) =>
        all
          .map((c) => (c.id === conversationId ? { ...c, preview: `You: ${text}`, lastAt: sent.sentAt } : c))
          .sort((a, b) => (b.lastAt ?? "").localeCompare(a.lastAt ?? "")),
      );
    } catch (e) {
      setNotice(`Your message was not sent: ${(e as Error).message}`);
    }
    // The store is the truth (a receipt may already have marked it delivered).
    if (selectedRef.current === conversationId) await reloadMessages(conversationId).catch(() => {});
  }

  async function acceptInvite(link: string): Promise<void> {
    const contact = await client.acceptInvite(link);
    await reloadConversations();
    setSelectedId(contact.conversationId);
  }

  async function acceptPending() {
    if (!pendingInvite) return;
    setAccepting(true);
    setAcceptError(null);
    try {
      await acceptInvite(pendingInvite);
      onInviteHandled();
      setOverlay(null);
    } catch (e) {
      setAcceptError((e as Error).message);
    } finally {
      setAccepting(false);
    }
  }

  // An invite link opened (hashchange) while unlocked.
  useEffect(() => {
    if (pendingInvite) setOverlay("accept");
  }, [pendingInvite]);

  async function lock() {
    await session.lock();
    props.onLocked();
  }

  async function wipe() {
    await session.wipe();
    props.onWiped();
  }

  const closeOverlay = useCallback(() => setOverlay(null), []);

  const connectionLabel =
    connection === "open" ? "Connected" : connection === "connecting" ? "Connecting…" : "Offline";

  return (
    <div className={selected ? "app show-chat" : "app"}>
      <header className="topbar">
        <div className="brand-row">
          <Logo />
          <span className="brand-name">Parley</span>
        </div>
        <div className="topbar-right">
          <span className={`connection connection-${connection}`} role="status">
            <span className="dot" aria-hidden="true" />
            <span className="connection-label">{connectionLabel}</span>
          </span>
          {profileName && (
            <span className="me" title="Your display name">
              {profileName}
            </span>
          )}
          <button type="button" onClick={lock}>
            Lock
          </button>
          <button type="button" className="danger-outline" onClick={() => setOverlay("wipe")}>
            Wipe this device
          </button>
        </div>
      </header>

      {notice && (
        <div className="banner" role="alert">
          <span>{notice}</span>
          <button type="button" className="link-button" onClick={() => setNotice(null)}>
            Dismiss
          </button>
        </div>
      )}

      <div className="layout">
        <aside className="sidebar">
          <div className="sidebar-actions">
            <button type="button" className="primary" onClick={() => setOverlay("invite")}>
              Invite someone
            </button>
            <button type="button" onClick={() => setOverlay("add")}>
              Add contact
            </button>
          </div>
          <ConversationList
            conversations={conversations}
            loaded={loaded}
            selectedId={selectedId}
            onSelect={setSelectedId}
          />
        </aside>

        <main className="main">
          {selected ? (
            <ChatView
              key={selected.id}
              conversation={selected}
              messages={messages}
              onSend={send}
              onShowSafety={() => setOverlay("safety")}
              onBack={() => setSelectedId(null)}
            />
          ) : (
            <div className="empty-chat">
              <h2>{conversations.length ? "Choose a conversation" : "No conversations yet"}</h2>
              <p className="muted">
                {conversations.length
                  ? "Your messages are end-to-end encrypted: only you and the people you talk to can read them."
                  : "Invite someone with a one-time link, or add a contact from a link they sent you."}
              </p>
            </div>
          )}
        </main>
      </div>

      {overlay === "invite" && <InviteDialog client={client} onClose={closeOverlay} />}
      {overlay === "add" && <AddContactDialog onAccept={acceptInvite} onClose={closeOverlay} />}
      {overlay === "safety" && selected && (
        <SafetyNumberDialog
          client={client}
          contactId={selected.contactId}
          name={selected.title}
          onVerified={() => reloadConversations().catch(() => {})}
          onClose={closeOverlay}
        />
      )}
      {overlay === "wipe" && (
        <Dialog title="Wipe this device?" onClose={closeOverlay}>
          <p>
            This deletes your profile, your contacts and every message from this browser. It cannot be undone,
            and your contacts will no longer reach you here.
          </p>
          <div className="actions">
            <button type="button" onClick={closeOverlay}>
              Cancel
            </button>
            <button type="button" className="danger" onClick={wipe}>
              Wipe everything
            </button>
          </div>
        </Dialog>
      )}
      {overlay === "accept" && pendingInvite && (
        <Dialog
          title="Accept this invite?"
          onClose={() => {
            onInviteHandled();
            closeOverlay();
          }}
        >
          <p>
            You opened an invite link. Accepting it adds the person who sent it to your contacts and starts an
            encrypted conversation. An invite works only once.
          </p>
          {acceptError && (
            <p className="error" role="alert">
              {acceptError}
            </p>
          )}
          <div className="actions">
            <button
              type="button"
              onClick={() => {
                onInviteHandled();
                closeOverlay();
              }}
            >
              Not now
            </button>
            <button type="button" className="primary" onClick={acceptPending} disabled={accepting}>
              {accepting ? "Connecting…" : "Accept invite"}
            </button>
          </div>
        </Dialog>
      )}
    </div>
  );
}
