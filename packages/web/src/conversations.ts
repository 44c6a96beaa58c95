/**
 * Pure helpers for the conversation list and the open chat: the list's rows and how a message, a send
 * or a receipt changes them. No React, no engine calls (the hooks in `hooks/` call the engine and
 * keep the state; what they compute is here, where it can be tested without a browser).
 */
import type { ContactView, ConversationView, MessageView, PersonRef } from "@parley/core";
import { personName } from "./groups.js";
import { t } from "./i18n.js";
import { lineText, type SystemLine } from "./lines.js";

/** One row of the list: a 1:1 conversation with a contact, or a group. */
export interface ConversationSummary {
  id: string; // conversation id: what the engine's send/messages take
  kind: "direct" | "group";
  /** Direct: the contact (safety number, verification). Null for groups. */
  contactId: string | null;
  title: string;
  /** Direct: the contact's profile photo as a data: URL (issue 14), or null. */
  photo: string | null;
  verified: boolean;
  keyChanged: boolean;
  /** Direct: their key changed while verified: nothing is sent until we accept it (issue 13). */
  mustAccept: boolean;
  /** Disappearing messages: the timer in seconds (null or absent: off). */
  expireAfter?: number | null;
  /** Direct: we blocked the contact (what they write is dropped; we cannot write). */
  blocked: boolean;
  canSend: boolean;
  /** Groups: still a member, or left, or removed by an admin. Direct chats are always "active". */
  status: "active" | "left" | "removed" | "needs-readd";
  /** With status "needs-readd": why (a diagnostic). */
  statusReason?: string;
  /** Groups: whether we are an admin. */
  admin: boolean;
  /** No notifications for it. */
  muted: boolean;
  /** Listed under "Archived" (archived, and nothing new since, or muted). */
  archived: boolean;
  /** We send read receipts / typing indicators here (on by default in chats, off in groups). */
  readReceipts: boolean;
  typingIndicators: boolean;
  preview: string | null;
  lastAt: string | null;
  unread: number;
}

export function receivedAtMs(m: MessageView): number {
  return m.receivedAt ? Date.parse(m.receivedAt) : 0;
}

/**
 * "You: …" for ours; in a group, "Bob: …" for theirs; in a 1:1 chat just the text. A file without
 * a caption shows its name ("File: invoice.pdf"), never an empty row.
 */
export function previewOf(m: MessageView): string {
  const text = m.deleted
    ? t("sidebar.messageDeleted")
    : m.text || (m.file ? t("message.file", { name: m.file.name }) : "");
  if (m.fromMe) return t("sidebar.youPrefix", { text });
  return m.kind === "group" ? t("notification.groupBody", { who: personName(m.from), text }) : text;
}

/** Newest first; ties by title. */
export const byRecent = (a: ConversationSummary, b: ConversationSummary) =>
  (b.lastAt ?? "").localeCompare(a.lastAt ?? "") || a.title.localeCompare(b.title);

/**
 * A row of the list from what the engine and the web's own records say: the newest messages (`recent`,
 * oldest first), when the conversation was last read, and a group's newest system line ("Alice added
 * you", newer than any message: then it is the preview). The open conversation has nothing unread.
 */
export function summaryOf(input: {
  view: ConversationView;
  contact: ContactView | undefined;
  recent: MessageView[];
  lastRead: number;
  newestLine: SystemLine | undefined;
  open: boolean;
}): ConversationSummary {
  const { view, contact, recent } = input;
  const last = recent.at(-1);
  let preview = last ? previewOf(last) : null;
  let lastAt = last ? (last.receivedAt ?? last.sentAt) : null;
  const line = input.newestLine;
  if (view.kind === "group" && line && (!lastAt || line.at > Date.parse(lastAt))) {
    preview = lineText(line.event);
    lastAt = new Date(line.at).toISOString();
  }
  return {
    id: view.id,
    kind: view.kind,
    contactId: contact?.id ?? null,
    title: view.name,
    photo: contact?.photo ? photoUrl(contact.photo) : null,
    verified: contact?.verified ?? false,
    keyChanged: contact?.keyChanged ?? false,
    mustAccept: contact?.mustAccept ?? false,
    blocked: contact?.blocked ?? false,
    canSend: view.canSend && !(contact?.blocked ?? false) && !(contact?.mustAccept ?? false),
    status: view.status ?? "active",
    ...(view.statusReason !== undefined ? { statusReason: view.statusReason } : {}),
    admin: view.admin ?? false,
    muted: view.muted,
    archived: view.archived,
    expireAfter: view.expireAfter ?? null,
    readReceipts: view.readReceipts,
    typingIndicators: view.typingIndicators,
    preview,
    lastAt,
    unread: input.open ? 0 : recent.filter((m) => !m.fromMe && receivedAtMs(m) > input.lastRead).length,
  };
}

/** The list after a message arrived (or was sent from another path): preview, time, unread, order. */
export function withIncoming(
  all: ConversationSummary[],
  m: MessageView,
  open: boolean,
): ConversationSummary[] {
  return all
    .map((c) =>
      c.id === m.conversationId
        ? {
            ...c,
            preview: previewOf(m),
            lastAt: m.receivedAt ?? m.sentAt,
            unread: open || m.fromMe ? c.unread : c.unread + 1,
            // Something new brings an archived chat back, unless it is muted too.
            archived: c.archived && c.muted,
          }
        : c,
    )
    .sort(byRecent);
}

/** The list after this device sent `text` at `sentAt`. */
export function withSent(
  all: ConversationSummary[],
  conversationId: string,
  text: string,
  sentAt: string,
): ConversationSummary[] {
  return all
    .map((c) =>
      c.id === conversationId ? { ...c, preview: t("sidebar.youPrefix", { text }), lastAt: sentAt } : c,
    )
    .sort(byRecent);
}

/** The list once a conversation is opened: nothing in it is unread. */
export function withOpened(all: ConversationSummary[], conversationId: string): ConversationSummary[] {
  return all.map((c) => (c.id === conversationId ? { ...c, unread: 0 } : c));
}

export const totalUnread = (all: ConversationSummary[]) => all.reduce((n, c) => n + c.unread, 0);

// ---- the open chat ---------------------------------------------------------------------------------

/** Adds a message unless the list has it already (a reload and a live event may both bring it). */
export function withMessage(list: MessageView[], m: MessageView): MessageView[] {
  return list.some((x) => x.id === m.id) ? list : [...list, m];
}

/** Marks the messages a receipt named as delivered. */
export function withDelivered(list: MessageView[], ids: string[]): MessageView[] {
  const delivered = new Set(ids);
  return list.map((m) => (delivered.has(m.id) ? { ...m, status: "delivered" } : m));
}

/** Our messages `by` read (a read receipt): read, and so delivered. */
export function withRead(list: MessageView[], ids: string[], by: PersonRef): MessageView[] {
  const read = new Set(ids);
  return list.map((m) =>
    read.has(m.id) && !m.readBy?.some((p) => p.identityKey === by.identityKey)
      ? { ...m, status: m.status === "sent" ? "delivered" : m.status, readBy: [...(m.readBy ?? []), by] }
      : m,
  );
}

/** Marks messages that waited in the outbox as sent (a receipt may have marked them delivered first). */
export function withTakenByRelay(list: MessageView[], ids: string[]): MessageView[] {
  const sent = new Set(ids);
  return list.map((m) => (sent.has(m.id) && m.status === "sending" ? { ...m, status: "sent" } : m));
}

/** Adds lines not yet in the list (a reload and a live event may both bring the same line). */
export function withLines(list: SystemLine[], added: SystemLine[]): SystemLine[] {
  const known = new Set(list.map((l) => l.id));
  const fresh = added.filter((l) => !known.has(l.id));
  return fresh.length ? [...list, ...fresh] : list;
}

/** When the newest message from someone else arrived (0: none), to mark the chat read up to it. */
export function newestReceived(history: MessageView[]): number {
  return Math.max(0, ...history.filter((m) => !m.fromMe).map(receivedAtMs));
}

/** The bubble shown while a message is being sent; the store's copy replaces it once sent. */
export function pendingMessage(
  c: Pick<ConversationSummary, "id" | "title" | "kind">,
  text: string,
  myName: string,
  now: Date,
  id: string,
): MessageView {
  return {
    conversation: c.title,
    conversationId: c.id,
    kind: c.kind,
    id,
    from: { identityKey: "", name: myName, relation: "me" },
    fromMe: true,
    text,
    sentAt: now.toISOString(),
    receivedAt: null,
    status: "sending",
  };
}

/** A profile photo (base64url bytes, a type the engine checked) as a data: URL for <img>. */
export function photoUrl(photo: { mime: string; data: string }): string {
  const b64 = photo.data.replace(/-/g, "+").replace(/_/g, "/");
  return `data:${photo.mime};base64,${b64}${"=".repeat((4 - (b64.length % 4)) % 4)}`;
}
