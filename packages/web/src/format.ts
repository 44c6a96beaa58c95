/** Small pure helpers for what the UI shows. */
import { currentLanguage, t } from "./i18n.js";

/** "123451234512345…" → "12345 12345 12345 …" (safety numbers are read aloud in groups of five). */
export function groupDigits(digits: string, size = 5): string {
  const groups: string[] = [];
  for (let i = 0; i < digits.length; i += size) groups.push(digits.slice(i, i + size));
  return groups.join(" ");
}

const TIME: Intl.DateTimeFormatOptions = { hour: "2-digit", minute: "2-digit" };
const DATE_TIME: Intl.DateTimeFormatOptions = {
  day: "numeric",
  month: "short",
  hour: "2-digit",
  minute: "2-digit",
};
const SHORT_DATE: Intl.DateTimeFormatOptions = { day: "numeric", month: "short" };

/** Dates and times as the app's language writes them ("3 Dec", "12月3日"), formatters made once each. */
const formats = new Map<string, Intl.DateTimeFormat>();
function format(options: Intl.DateTimeFormatOptions, date: Date): string {
  const key = `${currentLanguage()} ${JSON.stringify(options)}`;
  let f = formats.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(currentLanguage(), options);
    formats.set(key, f);
  }
  return f.format(date);
}

/** A number as the app's language writes it ("65,536"). */
export const formatNumber = (n: number): string => n.toLocaleString(currentLanguage());

/** A conversation-list time: the time today, else just the date. */
export function formatListTime(iso: string, now = new Date()): string {
  const date = new Date(iso);
  const sameDay =
    date.getFullYear() === now.getFullYear() &&
    date.getMonth() === now.getMonth() &&
    date.getDate() === now.getDate();
  return format(sameDay ? TIME : SHORT_DATE, date);
}

/** A message time: just the time today, the date and time before today. */
export function formatMessageTime(iso: string, now = new Date()): string {
  const date = new Date(iso);
  const sameDay =
    date.getFullYear() === now.getFullYear() &&
    date.getMonth() === now.getMonth() &&
    date.getDate() === now.getDate();
  return format(sameDay ? TIME : DATE_TIME, date);
}

export type DeliveryState = "sending" | "sent" | "delivered" | "read" | "failed" | "received";

export function deliveryLabel(status: DeliveryState): string {
  return status === "received" ? "" : t(`message.${status}`);
}

/** The ticks beside our message: one when the relay has it, two once delivered, two (coloured) once read. */
export function deliveryTicks(status: DeliveryState): string {
  return status === "sent" ? "✓" : status === "delivered" || status === "read" ? "✓✓" : "";
}

/** Initials for an avatar circle: the first letters of the first two words. */
export function initials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  const letters = words.slice(0, 2).map((w) => [...w][0] ?? "");
  return letters.join("").toUpperCase() || "?";
}

/**
 * The app opened at an invite link (`<relay>/#/invite/<id>/<key>`, or a group's `#/join/…`):
 * returns that link, else null.
 * `href` is the whole page address; the fragment never reached the server.
 */
/** A device link (`…/#/link/<id>/<key>`, core messaging/device-link.ts) in the address, or null. */
export function deviceLinkFromLocation(href: string): string | null {
  const hashAt = href.indexOf("#");
  if (hashAt < 0) return null;
  const match = /^#\/link\/([A-Za-z0-9_-]{22})\/([A-Za-z0-9_-]{43})$/.exec(href.slice(hashAt));
  return match ? `${href.slice(0, hashAt)}#/link/${match[1]}/${match[2]}` : null;
}

export function inviteFromLocation(href: string): string | null {
  const hashAt = href.indexOf("#");
  if (hashAt < 0) return null;
  const base = href.slice(0, hashAt);
  // `#/join/…`: a group's invite link (core messaging/group-link.ts), opened the same way.
  const match = /^#\/(invite|join)\/([A-Za-z0-9_-]{22})\/([A-Za-z0-9_-]{43})$/.exec(href.slice(hashAt));
  return match ? `${base}#/${match[1]}/${match[2]}/${match[3]}` : null;
}
