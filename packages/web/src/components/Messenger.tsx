import type { ClientEvent, ContactView, ConversationView, GroupMemberView, MessageView } from "@parley/core";
import { useCallback, useEffect, useRef, useState } from "react";
import {
  describeMembers,
  describeRoles,
  eventNotice,
  friendlyError,
  personName,
  type SystemLine,
} from "../groups";
import type { Session } from "../session";
import { AddContactDialog } from "./AddContactDialog";
import { Logo } from "./Brand";
import { ChatView } from "./ChatView";
import { ConversationList, type ConversationSummary } from "./ConversationList";
import { Dialog } from "./Dialog";
import { GroupInfoDialog } from "./GroupInfoDialog";
import { InviteDialog } from "./InviteDialog";
import { NewGroupDialog } from "./NewGroupDialog";
import { SafetyNumberDialog } from "./SafetyNumberDialog";

type Connection = "connecting" | "open" | "closed";
type Overlay = "invite" | "add" | "safety" | "wipe" | "accept" | "new-group" | "group" | null;

const HISTORY_LIMIT = 500;
const UNREAD_SCAN = 200;

function receivedAtMs(m: MessageView): number {
  return m.receivedAt ? Date.parse(m.receivedAt) : 0;
}

/** "You: …" for ours; in a group, "Bob: …" for theirs; in a 1:1 chat just the text. */
function previewOf(m: MessageView): string {
  if (m.fromMe) return `You: ${m.text}`;
  return m.kind === "group" ? `${personName(m.from)}: ${m.text}` : m.text;
}

const byRecent = (a: ConversationSummary, b: ConversationSummary) =>
  (b.lastAt ?? "").localeCompare(a.lastAt ?? "") || a.title.localeCompare(b.title);

/** Adds lines not yet in the list (a reload and a live event may both bring the same line). */
function withLines(list: SystemLine[], added: SystemLine[]): SystemLine[] {
  const known = new Set(list.map((l) => l.id));
  const fresh = added.filter((l) => !known.has(l.id));
  return fresh.length ? [...list, ...fresh] : list;
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
  const [contacts, setContacts] = useState<ContactView[]>([]);
  /** The selected group's system lines and members (null: not a group, or not a member). */
  const [lines, setLines] = useState<SystemLine[]>([]);
  const [members, setMembers] = useState<GroupMemberView[] | null>(null);
  const [groupMode, setGroupMode] = useState<"info" | "add">("info");
  const [connection, setConnection] = useState<Connection>("connecting");
  const [overlay, setOverlay] = useState<Overlay>(pendingInvite ? "accept" : null);
  const [notice, setNotice] = useState<string | null>(null);
  const [acceptError, setAcceptError] = useState<string | null>(null);
  const [accepting, setAccepting] = useState(false);

  const selectedRef = useRef<string | null>(null);
  selectedRef.current = selectedId;
  const conversationsRef = useRef<ConversationSummary[]>([]);
  conversationsRef.current = conversations;
  const selected = conversations.find((c) => c.id === selectedId) ?? null;
  const selectedKind = selected?.kind;
  const selectedStatus = selected?.status;

  // ---- loading ---------------------------------------------------------------------------------

  const summarize = useCallback(
    async (view: ConversationView, contact: ContactView | undefined): Promise<ConversationSummary> => {
      const recent = await client.messages(view.id, UNREAD_SCAN);
      const lastRead = await session.lastRead(view.id);
      const last = recent.at(-1);
      let preview = last ? previewOf(last) : null;
      let lastAt = last ? (last.receivedAt ?? last.sentAt) : null;
      if (view.kind === "group") {
        // "Alice added you", "You created the group": newer than any message, it is the preview.
        const [line] = await session.systemLines(view.id, 1);
        if (line && (!lastAt || line.at > Date.parse(lastAt))) {
          preview = line.text;
          lastAt = new Date(line.at).toISOString();
        }
      }
      return {
        id: view.id,
        kind: view.kind,
        contactId: contact?.id ?? null,
        title: view.name,
        verified: contact?.verified ?? false,
        keyChanged: contact?.keyChanged ?? false,
        canSend: view.canSend,
        status: view.status ?? "active",
        admin: view.admin ?? false,
        preview,
        lastAt,
        unread:
          view.id === selectedRef.current
            ? 0
            : recent.filter((m) => !m.fromMe && receivedAtMs(m) > lastRead).length,
      };
    },
    [client, session],
  );

  const reloadConversations = useCallback(async () => {
    const [views, contactList] = await Promise.all([client.conversations(), client.contacts()]);
    const byId = new Map(contactList.map((c) => [c.id, c]));
    const summaries = await Promise.all(
      views.map((v) => summarize(v, v.contactId ? byId.get(v.contactId) : undefined)),
    );
    setContacts(contactList);
    setConversations(summaries.sort(byRecent));
    setLoaded(true);
  }, [client, summarize]);

  const reloadMessages = useCallback(
    async (conversationId: string) => {
      const [history, systemLines] = await Promise.all([
        client.messages(conversationId, HISTORY_LIMIT),
        session.systemLines(conversationId),
      ]);
      if (selectedRef.current !== conversationId) return;
      setMessages(history);
      setLines(systemLines);
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
      setLines([]);
      return;
    }
    setConversations((all) => all.map((c) => (c.id === selectedId ? { ...c, unread: 0 } : c)));
    reloadMessages(selectedId).catch((e: Error) => setNotice(`Could not load messages: ${e.message}`));
  }, [selectedId, reloadMessages]);

  // Removed from a group while looking at its info: there is nothing left to manage.
  useEffect(() => {
    if (overlay === "group" && selectedStatus !== "active") setOverlay(null);
  }, [overlay, selectedStatus]);

  // ---- group history lines -----------------------------------------------------------------------

  /**
   * Writes the lines a group chat shows between messages ("Bob was added", from the engine's
   * events, or "You added Bob" for a change this device made), and refreshes the member list.
   * One at a time, so lines land in the order their events came.
   */
  const chronicleQueue = useRef<Promise<void>>(Promise.resolve());
  const chronicle = useCallback(
    (conversationId: string, texts: string[]): Promise<void> => {
      const work = async () => {
        if (selectedRef.current === conversationId) {
          const current = await client.groupMembers(conversationId).catch(() => undefined);
          if (current && selectedRef.current === conversationId) setMembers(current);
        }
        const added = await session.addSystemLines(conversationId, texts);
        if (selectedRef.current === conversationId) setLines((list) => withLines(list, added));
      };
      const next = chronicleQueue.current.then(work);
      chronicleQueue.current = next.catch((e: Error) =>
        console.warn("parley: a chat line was not saved:", e),
      );
      return next;
    },
    [client, session],
  );

  // The selected group's members, for its header and its info panel.
  useEffect(() => {
    setMembers(null);
    if (!selectedId || selectedKind !== "group" || selectedStatus !== "active") return;
    let current = true;
    client
      .groupMembers(selectedId)
      .then((list) => {
        if (current) setMembers(list);
      })
      .catch((e: unknown) => setNotice(`Could not load the group’s members. ${friendlyError(e)}`));
    return () => {
      current = false;
    };
  }, [client, selectedId, selectedKind, selectedStatus]);

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
          if (!conversationsRef.current.some((c) => c.id === m.conversationId)) {
            // A conversation the list has not caught up with yet (a group just joined).
            reloadConversations().catch(() => {});
            return;
          }
          setConversations((all) =>
            all
              .map((c) =>
                c.id === m.conversationId
                  ? {
                      ...c,
                      preview: previewOf(m),
                      lastAt: m.receivedAt ?? m.sentAt,
                      unread: open || m.fromMe ? c.unread : c.unread + 1,
                    }
                  : c,
              )
              .sort(byRecent),
          );
          return;
        }
        case "group": {
          const { conversationId } = event;
          let work: Promise<void> | undefined;
          switch (event.change) {
            case "joined":
              work = chronicle(conversationId, [`${personName(event.by)} added you to the group`]);
              break;
            case "members":
              work = chronicle(conversationId, describeMembers(event.added, event.removed));
              break;
            case "roles":
              work = chronicle(conversationId, describeRoles(event.promoted, event.demoted));
              break;
            case "renamed":
              work = chronicle(conversationId, [`The group is now called “${event.name}”`]);
              break;
            case "removed":
              work = chronicle(conversationId, ["An admin removed you from the group"]);
              break;
            case "moved":
              break;
          }
          Promise.resolve(work)
            .catch(() => {})
            .then(() => reloadConversations())
            .catch(() => {});
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
        case "warning":
        case "failure": {
          // A dropped message is the person's business; a gap in a sender's messages belongs in
          // that conversation; the rest (a receipt not sent, a queue renewed, a relay hiccup) fix
          // themselves and need no one's attention.
          const said = eventNotice(event);
          if ("notice" in said) setNotice(said.notice);
          else if ("line" in said) chronicle(said.conversationId, [said.line]).catch(() => {});
          else console.warn("parley:", said.console);
          return;
        }
      }
    },
    [session, reloadConversations, chronicle],
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
        from: { identityKey: "", name: profileName, relation: "me" },
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
          .sort(byRecent),
      );
    } catch (e) {
      setNotice(`Your message was not sent. ${friendlyError(e)}`);
    }
    // The store is the truth (a receipt may already have marked it delivered).
    if (selectedRef.current === conversationId) await reloadMessages(conversationId).catch(() => {});
  }

  async function acceptInvite(link: string): Promise<void> {
    const contact = await client.acceptInvite(link);
    await reloadConversations();
    setSelectedId(contact.conversationId);
  }

  async function createGroup(name: string): Promise<void> {
    const view = await client.createGroup(name);
    await chronicle(view.id, ["You created the group"]);
    await reloadConversations();
    setSelectedId(view.id);
  }

  function showGroup(mode: "info" | "add") {
    setGroupMode(mode);
    setOverlay("group");
    if (selectedId) {
      client
        .groupMembers(selectedId)
        .then(setMembers)
        .catch(() => {});
    }
  }

  async function afterGroupChange(conversationId: string, ownLines: string[]): Promise<void> {
    await chronicle(conversationId, ownLines);
    await reloadConversations();
  }

  async function afterLeaving(conversationId: string): Promise<void> {
    await chronicle(conversationId, ["You left the group"]);
    await reloadConversations();
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
          <div className="list-head">
            <h2 className="list-title">Chats</h2>
            <button type="button" className="small-button" onClick={() => setOverlay("new-group")}>
              <span aria-hidden="true">+ </span>New group
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
              lines={lines}
              members={members}
              onSend={send}
              onShowSafety={() => setOverlay("safety")}
              onShowGroup={showGroup}
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
      {overlay === "new-group" && <NewGroupDialog onCreate={createGroup} onClose={closeOverlay} />}
      {overlay === "group" && selected?.kind === "group" && (
        <GroupInfoDialog
          client={client}
          conversation={selected}
          members={members}
          contacts={contacts}
          initialMode={groupMode}
          onChanged={(ownLines) => afterGroupChange(selected.id, ownLines)}
          onLeft={() => afterLeaving(selected.id)}
          onClose={closeOverlay}
        />
      )}
      {overlay === "safety" && selected?.contactId && (
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
