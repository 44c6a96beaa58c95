import { isGroupLink, type MessageView } from "@parley/core";
import { useCallback, useEffect, useRef, useState } from "react";
import { feedError } from "../feed";
import { groupEventLines, personRef } from "../groups";
import { useClientEvents } from "../hooks/useClientEvents";
import { useConversations } from "../hooks/useConversations";
import { useFeed } from "../hooks/useFeed";
import { useGroup } from "../hooks/useGroup";
import { useMessages } from "../hooks/useMessages";
import { useNotice } from "../hooks/useNotice";
import { type Typing, typingNames, useTypingSender, withoutExpired, withTyping } from "../hooks/useTyping";
import { i18n, t } from "../i18n";
import type { LineEvent } from "../lines";
import { DEFAULT_NOTIFICATIONS, notificationFor, shouldNotify, showNotification } from "../notifications";
import type { Session } from "../session";
import { AddContactDialog } from "./AddContactDialog";
import { ChatView, EmptyChat } from "./ChatView";
import { ContactInfoDialog } from "./ContactInfoDialog";
import { Sidebar } from "./ConversationList";
import { AcceptInviteDialog, WipeDialog } from "./DeviceDialogs";
import { FeedView } from "./FeedView";
import { GroupInfoDialog } from "./GroupInfoDialog";
import { InviteDialog } from "./InviteDialog";
import { NewGroupDialog } from "./NewGroupDialog";
import { SafetyNumberDialog } from "./SafetyNumberDialog";
import { SettingsDialog } from "./SettingsDialog";
import { NoticeBanner, TopBar } from "./TopBar";
import { ViewTabs } from "./ViewTabs";

type Overlay =
  | "invite"
  | "add"
  | "safety"
  | "contact"
  | "settings"
  | "wipe"
  | "accept"
  | "new-group"
  | "group"
  | null;

/**
 * The unlocked app: the conversation list, the open chat and the dialogs, composed from the hooks in
 * `hooks/` (the list, the open chat's history, the open group, the live events, the notice banner).
 */
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
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [overlay, setOverlay] = useState<Overlay>(pendingInvite ? "accept" : null);
  const [groupMode, setGroupMode] = useState<"info" | "add">("info");
  const { notice, show, report, dismiss } = useNotice();
  const list = useConversations(session, selectedId, report);
  const selected = list.conversations.find((c) => c.id === selectedId) ?? null;
  const chat = useMessages(session, selectedId, report);
  // The list's previews are words ("You: …", a group's newest line): a language switch words them again.
  const refreshList = list.refresh;
  useEffect(() => {
    const again = () => void refreshList();
    i18n.on("languageChanged", again);
    return () => i18n.off("languageChanged", again);
  }, [refreshList]);
  const [typing, setTyping] = useState<Typing[]>([]);
  const sendTyping = useTypingSender(client);
  // A typing indicator lasts a few seconds unless renewed.
  useEffect(() => {
    if (typing.length === 0) return;
    const timer = setInterval(() => setTyping((all) => withoutExpired(all)), 1000);
    return () => clearInterval(timer);
  }, [typing.length]);
  const group = useGroup(session, selected, report, chat.addLines);
  const [view, setView] = useState<"chats" | "feed">("chats");
  const posts = useFeed(session, view === "feed", (e) => show(feedError(e)));

  // Notifications: what the handlers below need to know, current whenever a message arrives.
  const notifyState = useRef({
    settings: DEFAULT_NOTIFICATIONS,
    conversations: list.conversations,
    selectedId,
  });
  notifyState.current.conversations = list.conversations;
  notifyState.current.selectedId = selectedId;
  useEffect(() => {
    session
      .notificationSettings()
      .then((s) => {
        notifyState.current.settings = s;
      })
      .catch((e: unknown) => report("load-settings", e));
  }, [session, report]);
  const notify = (m: MessageView) => {
    const { settings, conversations, selectedId: open } = notifyState.current;
    const chat = conversations.find((c) => c.id === m.conversationId);
    const chatInView =
      open === m.conversationId && document.visibilityState === "visible" && document.hasFocus();
    if (!shouldNotify({ settings, message: m, muted: chat?.muted ?? false, chatInView })) return;
    showNotification(notificationFor(m, chat?.title ?? "Parley", settings.previews), m.conversationId);
  };

  const connection = useClientEvents(session, {
    message: (m) => {
      if (!m.fromMe) setTyping((all) => withTyping(all, m.conversationId, m.from, false));
      list.onMessage(m, chat.onMessage(m));
      notify(m);
    },
    updated: (m) => {
      chat.onUpdated(m);
      void list.refresh(); // the list's preview may be the message that changed
    },
    group: (event) => {
      // Our devices' own group took this browser out: another device of ours revoked it.
      if (event.change === "revoked") show(t("devices.thisRevoked"));
      const lines =
        event.change === "moved"
          ? Promise.resolve()
          : group.chronicle(event.conversationId, groupEventLines(event));
      void lines.catch((e: unknown) => report("chat-line", e)).then(list.refresh);
    },
    delivered: chat.onDelivered,
    read: chat.onRead,
    typing: (conversationId, by, typing) => setTyping((all) => withTyping(all, conversationId, by, typing)),
    sent: chat.onSent,
    contact: () => void list.refresh(),
    notice: show,
    expiry: (event) => {
      if (event.type === "expire")
        void group
          .chronicle(event.conversationId, [
            { code: "expiry", by: personRef(event.by), seconds: event.seconds },
          ])
          .catch((e: unknown) => report("chat-line", e));
      void chat.reloadOpen().catch((e: unknown) => report("load-messages", e));
      void list.refresh();
    },
    post: (e) => posts.onPostEvent(e.change, e.by.relation === "me"),
    joinRequest: (e) => show(t("groupLink.requestNotice", { name: e.request.name, group: e.group })),
    line: (conversationId, line) =>
      void group.chronicle(conversationId, [line]).catch((e: unknown) => report("chat-line", e)),
  });

  // Opened and unlocked in another tab: that one is in use now, this one locks itself.
  const { onLocked } = props;
  useEffect(
    () =>
      session.watchOtherTabs(() => {
        void session
          .lock()
          .catch(() => {})
          .then(() => onLocked(t("app.takenOver")));
      }),
    [session, onLocked],
  );

  useEffect(() => {
    client
      .profile()
      .then((p) => setProfileName(p.name))
      .catch((e: unknown) => report("load-profile", e));
  }, [client, report]);

  // Removed from a group while looking at its info: there is nothing left to manage.
  useEffect(() => {
    if (overlay === "group" && selected?.status !== "active") setOverlay(null);
  }, [overlay, selected?.status]);

  // An invite link opened (hashchange) while unlocked.
  useEffect(() => {
    if (pendingInvite) setOverlay("accept");
  }, [pendingInvite]);

  async function acceptInvite(link: string): Promise<void> {
    // A group's link asks to join: an admin's device adds us, and the group appears in the list then.
    if (isGroupLink(link)) {
      const asked = await client.joinGroupByLink(link);
      show(t(asked.approve ? "groupLink.askedApproval" : "groupLink.asked", { group: asked.group }));
      return;
    }
    const contact = await client.acceptInvite(link);
    await list.reload();
    setSelectedId(contact.conversationId);
  }

  async function createGroup(name: string, options: { pq: boolean }): Promise<void> {
    const view = await client.createGroup(name, options);
    await group.chronicle(view.id, [{ code: "created", pq: options.pq }]);
    await list.reload();
    setSelectedId(view.id);
  }

  /** After a change this device made in a group (the dialog shows a failure of either step). */
  async function afterGroupChange(conversationId: string, ownLines: LineEvent[]): Promise<void> {
    await group.chronicle(conversationId, ownLines);
    await list.reload();
  }

  function showGroup(mode: "info" | "add") {
    setGroupMode(mode);
    setOverlay("group");
    if (selectedId) void group.refreshMembers(selectedId);
  }

  async function lock() {
    try {
      await session.lock();
      props.onLocked();
    } catch (e) {
      report("lock", e);
    }
  }

  async function wipe() {
    try {
      await session.wipe();
      props.onWiped();
    } catch (e) {
      setOverlay(null);
      report("wipe", e);
    }
  }

  const closeOverlay = useCallback(() => setOverlay(null), []);
  const searchFailed = useCallback((e: unknown) => report("search", e), [report]);
  // A message chosen in the search: shown, and marked for a moment, once its chat has it.
  const [foundId, setFoundId] = useState<string | null>(null);
  // biome-ignore lint/correctness/useExhaustiveDependencies: look again whenever the chat's messages change
  useEffect(() => {
    if (!foundId) return;
    const item = document.querySelector(`[data-message-id="${CSS.escape(foundId)}"]`);
    if (!item) return;
    item.scrollIntoView({ block: "center" });
    item.classList.add("found");
    setFoundId(null);
    setTimeout(() => item.classList.remove("found"), 2000);
  }, [foundId, chat.messages]);
  const dismissInvite = () => {
    onInviteHandled();
    closeOverlay();
  };

  return (
    <div className={selected || view === "feed" ? "app show-chat" : "app"}>
      <TopBar
        connection={connection}
        profileName={profileName}
        onLock={lock}
        onSettings={() => setOverlay("settings")}
      />
      <NoticeBanner notice={notice} onDismiss={dismiss} />

      <div className="layout">
        <Sidebar
          conversations={list.conversations}
          loaded={list.loaded}
          selectedId={selectedId}
          onSelect={(id) => {
            setView("chats");
            setSelectedId(id);
          }}
          header={<ViewTabs view={view} newPosts={posts.unseen} onView={setView} />}
          onInvite={() => setOverlay("invite")}
          onAddContact={() => setOverlay("add")}
          onNewGroup={() => setOverlay("new-group")}
          client={client}
          onOpenMessage={(m) => {
            setView("chats");
            setSelectedId(m.conversationId);
            setFoundId(m.id);
          }}
          onError={searchFailed}
        />

        <main className="main">
          {view === "feed" ? (
            <FeedView
              client={client}
              posts={posts.posts}
              audiences={posts.audiences}
              contacts={list.contacts}
              loaded={posts.loaded}
              reload={posts.reload}
              onBack={() => setView("chats")}
            />
          ) : selected ? (
            <ChatView
              key={selected.id}
              conversation={selected}
              messages={chat.messages}
              lines={chat.lines}
              members={group.members}
              onSend={(text) =>
                void chat.send(selected, text, profileName, (sent) =>
                  list.onSent(selected.id, text, sent.sentAt),
                )
              }
              onReply={(target, text) =>
                void chat.send(
                  selected,
                  text,
                  profileName,
                  (sent) => list.onSent(selected.id, text, sent.sentAt),
                  target,
                )
              }
              onReact={(target, emoji) => void chat.react(selected, target, emoji)}
              onEdit={(target, text) => void chat.edit(selected, target, text).then(list.refresh)}
              onDelete={(target) => void chat.remove(selected, target).then(list.refresh)}
              client={client}
              uploads={chat.uploads}
              onSendFile={(file) =>
                void chat.sendFile(selected, file, (sent) =>
                  list.onSent(selected.id, sent.text || sent.file?.name || "", sent.sentAt),
                )
              }
              onFileError={(e) => report("get-file", e)}
              onShowSafety={() => setOverlay("safety")}
              onKeyAccepted={() => void list.refresh()}
              onShowContact={() => setOverlay("contact")}
              onShowGroup={showGroup}
              onBack={() => setSelectedId(null)}
              typing={typingNames(typing, selected.id)}
              onTyping={() => sendTyping(selected.id)}
            />
          ) : (
            <EmptyChat hasConversations={list.conversations.length > 0} />
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
          members={group.members}
          contacts={list.contacts}
          initialMode={groupMode}
          onChanged={(ownLines) => afterGroupChange(selected.id, ownLines)}
          onLeft={() => afterGroupChange(selected.id, [{ code: "youLeft" }])}
          onSettingsChanged={() => list.refresh()}
          onClose={closeOverlay}
        />
      )}
      {overlay === "contact" && selected?.contactId && (
        <ContactInfoDialog
          client={client}
          conversation={selected}
          onShowSafety={() => setOverlay("safety")}
          onRenamed={() => list.refresh()}
          onSettingsChanged={() => list.refresh()}
          onDeleted={async () => {
            setSelectedId(null);
            await list.refresh();
          }}
          onClose={closeOverlay}
        />
      )}
      {overlay === "safety" && selected?.contactId && (
        <SafetyNumberDialog
          client={client}
          contactId={selected.contactId}
          name={selected.title}
          onVerified={() => void list.refresh()}
          onClose={closeOverlay}
        />
      )}
      {overlay === "settings" && (
        <SettingsDialog
          session={session}
          profileName={profileName}
          onRenamed={setProfileName}
          onChanged={(s) => {
            notifyState.current.settings = s;
          }}
          onWipe={() => setOverlay("wipe")}
          onClose={closeOverlay}
        />
      )}
      {overlay === "wipe" && <WipeDialog onWipe={wipe} onClose={closeOverlay} />}
      {overlay === "accept" && pendingInvite && (
        <AcceptInviteDialog
          group={isGroupLink(pendingInvite)}
          onAccept={async () => {
            await acceptInvite(pendingInvite);
            dismissInvite();
          }}
          onDismiss={dismissInvite}
        />
      )}
    </div>
  );
}
