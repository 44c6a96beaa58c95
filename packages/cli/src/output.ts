/**
 * Human and --json output, in one place so every command prints the same way.
 *
 * Names, group names, message text and reasons come from other people: every such field goes
 * through terminal-text.ts before it reaches the terminal (see there), so nobody can forge a line,
 * move the cursor or send escape sequences. Our own line structure (newlines between lines) is
 * added around the escaped fields, never inside them.
 */
import type { ClientEvent, MessageView } from "@parley/core";
import { fileSummary, warningText } from "./file-words.js";
import { tr } from "./i18n.js";
import { jsonText, terminalText as t, terminalMessage } from "./terminal-text.js";
import { eventText, messageJson, personLabel, shortId } from "./words.js";

export interface Output {
  json: boolean;
}

/** `human` must already be safe (built with the helpers below); `value` is printed as JSON. */
export function print(out: Output, human: string, value: unknown): void {
  process.stdout.write(out.json ? `${jsonText(value)}\n` : `${human}\n`);
}

/**
 * "2026-11-29 10:36", local time. By hand, not toLocaleString: the first locale-aware call loads
 * ICU's locale data, which added 20 MiB to the peak memory of every command that prints a message
 * (send-file's included), measured.
 */
export function time(iso: string): string {
  const d = new Date(iso);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}`;
}

/** Our message's state: "(sent)", "(delivered)", "(read)" — in a group "(read by 2)". */
function statusText(m: MessageView): string {
  if (!m.fromMe) return "";
  const readers = m.readBy?.length ?? 0;
  if (readers === 0) return tr(`cli.message.status.${m.status}`);
  return m.kind === "group" ? tr("cli.message.readBy", { count: readers }) : tr("cli.message.status.read");
}

export function formatMessage(m: MessageView): string {
  const status = statusText(m);
  const where =
    m.kind === "group"
      ? tr("cli.message.in", { name: t(m.conversation) })
      : m.fromMe
        ? tr("cli.message.to", { name: t(m.conversation) })
        : "";
  const head = `[${time(m.sentAt)} #${t(shortId(m.id))}] ${t(personLabel(m.from))}${where}: `;
  if (m.deleted) return `${head}${tr("cli.message.deleted")}${status}`;
  const marks = `${m.edited ? tr("cli.message.edited") : ""}${m.mentionsMe ? tr("cli.message.mentionsYou") : ""}${reactionsText(m)}`;
  const quote = m.quote ? `\n  > ${quoteText(m.quote)}` : "";
  if (m.file) {
    const f = m.file;
    const caption = m.text ? ` ${terminalMessage(m.text)}` : "";
    const warnings = f.warnings.map((w) => `\n  ! ${t(warningText(f.name, w))}`).join("");
    return `${head}[file ${t(f.id)}] ${t(fileSummary(f))}${caption}${marks}${status}${quote}${warnings}`;
  }
  return `${head}${terminalMessage(m.text)}${marks}${status}${quote}`;
}

/** " [👍 2 ❤️ 1]": reactions and how many gave each (emoji are checked on arrival, and escaped anyway). */
function reactionsText(m: MessageView): string {
  if (!m.reactions?.length) return "";
  return ` [${m.reactions.map((r) => `${t(r.emoji)} ${r.count}`).join(" ")}]`;
}

/** The message a reply answers, on one line: who, its short id, its start. */
function quoteText(q: NonNullable<MessageView["quote"]>): string {
  const id = t(shortId(q.id));
  if (q.missing) return tr("cli.message.replyMissing", { id });
  const who = q.from ? t(personLabel(q.from)) : "";
  if (q.deleted) return tr("cli.message.replyDeleted", { who, id });
  const text = q.text.length > 80 ? `${q.text.slice(0, 79)}…` : q.text;
  const what = q.fileName && !text ? tr("cli.message.file", { name: q.fileName }) : text;
  return tr("cli.message.reply", { who, id, text: t(what) });
}

export function formatEvent(e: ClientEvent): string | undefined {
  if (e.type === "message") return formatMessage(e.message);
  if (e.type === "updated" && e.change !== "reaction") return formatMessage(e.message);
  const line = eventText(e);
  return line === undefined ? undefined : t(line);
}

/** JSON for an event; a message event prints as the message object itself (conversation, from, text, sentAt…). */
export function eventJson(e: ClientEvent): unknown {
  if (e.type === "message") return { type: "message", ...messageJson(e.message) };
  if (e.type === "updated")
    return {
      type: "updated",
      change: e.change,
      by: personLabel(e.by),
      sender: e.by,
      message: messageJson(e.message),
    };
  const text = eventText(e);
  return text === undefined ? e : { ...e, text };
}
