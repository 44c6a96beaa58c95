/**
 * Browser notifications for new messages (issue 14): off until the person turns them on (the
 * browser then asks for permission), and without the sender or text unless they also allow
 * previews — a notification shows on a lock screen and in screen shares, and the people Parley is
 * for may not want a name or a message there. Nothing here leaves the browser.
 */
import type { MessageView } from "@parley/core";
import { personName } from "./groups";
import { t } from "./i18n";

export interface NotificationSettings {
  /** Show a notification for a new message while Parley is not in view. */
  enabled: boolean;
  /** Say who wrote and what, instead of only "New message". */
  previews: boolean;
}

export const DEFAULT_NOTIFICATIONS: NotificationSettings = { enabled: false, previews: false };

/** What the notification for `m` says: only "Parley — New message" without previews. */
export function notificationFor(
  m: MessageView,
  chatTitle: string,
  previews: boolean,
): { title: string; body: string } {
  if (!previews) return { title: "Parley", body: t("notification.newMessage") };
  const text = m.text || (m.file ? t("message.file", { name: m.file.name }) : "");
  return m.kind === "group"
    ? { title: chatTitle, body: t("notification.groupBody", { who: personName(m.from), text }) }
    : { title: chatTitle, body: text };
}

/** Whether `m` deserves a notification now: theirs, not muted, and not in front of the person already. */
export function shouldNotify(input: {
  settings: NotificationSettings;
  message: MessageView;
  muted: boolean;
  chatInView: boolean;
}): boolean {
  return input.settings.enabled && !input.message.fromMe && !input.muted && !input.chatInView;
}

/** Shows one; a browser that cannot (no permission, a phone without a service worker) shows nothing. */
export function showNotification(n: { title: string; body: string }, tag: string): void {
  try {
    if (typeof Notification === "undefined" || Notification.permission !== "granted") return;
    new Notification(n.title, { body: n.body, tag });
  } catch {
    // Android's Chrome allows notifications from a service worker only: nothing to show here.
  }
}

/** Asks the browser for permission (from a click); true when notifications can be shown. */
export async function askPermission(): Promise<boolean> {
  if (typeof Notification === "undefined") return false;
  if (Notification.permission === "granted") return true;
  if (Notification.permission === "denied") return false;
  return (await Notification.requestPermission()) === "granted";
}
