/**
 * Human and --json output, in one place so every command prints the same way.
 *
 * Names, group names, message text and reasons come from other people: every such field goes
 * through terminal-text.ts before it reaches the terminal (see there), so nobody can forge a line,
 * move the cursor or send escape sequences. Our own line structure (newlines between lines) is
 * added around the escaped fields, never inside them.
 */
import type { ClientEvent, MessageView } from "@parley/core";
import { jsonText, terminalText as t, terminalMessage } from "./terminal-text.js";

export interface Output {
  json: boolean;
}

/** `human` must already be safe (built with the helpers below); `value` is printed as JSON. */
export function print(out: Output, human: string, value: unknown): void {
  process.stdout.write(out.json ? `${jsonText(value)}\n` : `${human}\n`);
}

const time = (iso: string) => new Date(iso).toLocaleString("sv-SE").slice(0, 16);

export function formatMessage(m: MessageView): string {
  const status = m.fromMe ? ` (${m.status})` : "";
  const where = m.kind === "group" ? ` in ${t(m.conversation)}` : m.fromMe ? ` → ${t(m.conversation)}` : "";
  return `[${time(m.sentAt)}] ${t(m.from)}${where}: ${terminalMessage(m.text)}${status}`;
}

export function formatEvent(e: ClientEvent): string | undefined {
  switch (e.type) {
    case "message":
      return formatMessage(e.message);
    case "contact": {
      const name = t(e.contact.name);
      if (e.change === "added") return `* ${name} is now your contact`;
      if (e.change === "key-changed") return `! ${name}: IDENTITY CHANGED — compare safety numbers again`;
      return `* your contact is now called ${name}`;
    }
    case "group": {
      const name = t(e.name);
      const detail = e.detail === undefined ? undefined : t(e.detail);
      const lines: Record<typeof e.change, string | undefined> = {
        joined: `* you were added to "${name}"${detail ? ` by ${detail}` : ""}`,
        members: `* "${name}": members changed (${detail ?? ""})`,
        renamed: `* the group is now called "${name}"`,
        roles: `* "${name}": admins changed`,
        removed: `! you were removed from "${name}"`,
        moved: undefined,
      };
      return lines[e.change];
    }
    case "delivered":
      return undefined;
    case "rejected":
      return `! rejected a message: ${t(e.reason)}`;
    case "warning":
      return `! ${t(e.detail)}`;
    case "status":
      return undefined;
  }
}

/** JSON for an event; a message event prints as the message object itself (conversation, from, text, sentAt…). */
export function eventJson(e: ClientEvent): unknown {
  return e.type === "message" ? { type: "message", ...e.message } : e;
}
