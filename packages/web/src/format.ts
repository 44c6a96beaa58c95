/** Small pure helpers for what the UI shows. */

/** "123451234512345…" → "12345 12345 12345 …" (safety numbers are read aloud in groups of five). */
export function groupDigits(digits: string, size = 5): string {
  const groups: string[] = [];
  for (let i = 0; i < digits.length; i += size) groups.push(digits.slice(i, i + size));
  return groups.join(" ");
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  day: "numeric",
  month: "short",
  hour: "2-digit",
  minute: "2-digit",
});

const shortDateFormat = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short" });

/** A conversation-list time: the time today, else just the date. */
export function formatListTime(iso: string, now = new Date()): string {
  const date = new Date(iso);
  const sameDay =
    date.getFullYear() === now.getFullYear() &&
    date.getMonth() === now.getMonth() &&
    date.getDate() === now.getDate();
  return sameDay ? timeFormat.format(date) : shortDateFormat.format(date);
}

/** A message time: just the time today, the date and time before today. */
export function formatMessageTime(iso: string, now = new Date()): string {
  const date = new Date(iso);
  const sameDay =
    date.getFullYear() === now.getFullYear() &&
    date.getMonth() === now.getMonth() &&
    date.getDate() === now.getDate();
  return sameDay ? timeFormat.format(date) : dateTimeFormat.format(date);
}

export type DeliveryState = "sending" | "sent" | "delivered" | "read" | "failed" | "received";

export function deliveryLabel(status: DeliveryState): string {
  switch (status) {
    case "sending":
      return "Sending…";
    case "sent":
      return "Sent";
    case "delivered":
      return "Delivered";
    case "read":
      return "Read";
    case "failed":
      return "Not sent";
    case "received":
      return "";
  }
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
 * The app opened at an invite link (`<relay>/#/invite/<id>/<key>`): returns that link, else null.
 * `href` is the whole page address; the fragment never reached the server.
 */
export function inviteFromLocation(href: string): string | null {
  const hashAt = href.indexOf("#");
  if (hashAt < 0) return null;
  const base = href.slice(0, hashAt);
  const match = /^#\/invite\/([A-Za-z0-9_-]{22})\/([A-Za-z0-9_-]{43})$/.exec(href.slice(hashAt));
  return match ? `${base}#/invite/${match[1]}/${match[2]}` : null;
}
