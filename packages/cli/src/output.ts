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
import { jsonText, terminalText as t, terminalMessage } from "./terminal-text.js";
import { eventText, messageJson, personLabel } from "./words.js";

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
function time(iso: string): string {
  const d = new Date(iso);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}`;
}

export function formatMessage(m: MessageView): string {
  const status = m.fromMe ? ` (${m.status})` : "";
  const where = m.kind === "group" ? ` in ${t(m.conversation)}` : m.fromMe ? ` → ${t(m.conversation)}` : "";
  const head = `[${time(m.sentAt)}] ${t(personLabel(m.from))}${where}: `;
  if (m.file) {
    const f = m.file;
    const caption = m.text ? ` ${terminalMessage(m.text)}` : "";
    const warnings = f.warnings.map((w) => `\n  ! ${t(warningText(f.name, w))}`).join("");
    return `${head}[file ${t(f.id)}] ${t(fileSummary(f))}${caption}${status}${warnings}`;
  }
  return `${head}${terminalMessage(m.text)}${status}`;
}

export function formatEvent(e: ClientEvent): string | undefined {
  if (e.type === "message") return formatMessage(e.message);
  const line = eventText(e);
  return line === undefined ? undefined : t(line);
}

/** JSON for an event; a message event prints as the message object itself (conversation, from, text, sentAt…). */
export function eventJson(e: ClientEvent): unknown {
  if (e.type === "message") return { type: "message", ...messageJson(e.message) };
  const text = eventText(e);
  return text === undefined ? e : { ...e, text };
}
