/** Human and --json output, in one place so every command prints the same way. */
import type { ClientEvent, MessageView } from "@parley/core";

export interface Output {
  json: boolean;
}

export function print(out: Output, human: string, value: unknown): void {
  process.stdout.write(out.json ? `${JSON.stringify(value)}\n` : `${human}\n`);
}

const time = (iso: string) => new Date(iso).toLocaleString("sv-SE").slice(0, 16);

export function formatMessage(m: MessageView): string {
  const status = m.fromMe ? ` (${m.status})` : "";
  const where = m.kind === "group" ? ` in ${m.conversation}` : m.fromMe ? ` → ${m.conversation}` : "";
  return `[${time(m.sentAt)}] ${m.from}${where}: ${m.text}${status}`;
}

export function formatEvent(e: ClientEvent): string | undefined {
  switch (e.type) {
    case "message":
      return formatMessage(e.message);
    case "contact":
      if (e.change === "added") return `* ${e.contact.name} is now your contact`;
      if (e.change === "key-changed")
        return `! ${e.contact.name}: IDENTITY CHANGED — compare safety numbers again`;
      return `* your contact is now called ${e.contact.name}`;
    case "group": {
      const lines: Record<typeof e.change, string | undefined> = {
        joined: `* you were added to "${e.name}"${e.detail ? ` by ${e.detail}` : ""}`,
        members: `* "${e.name}": members changed (${e.detail ?? ""})`,
        renamed: `* the group is now called "${e.name}"`,
        roles: `* "${e.name}": admins changed`,
        removed: `! you were removed from "${e.name}"`,
        moved: undefined,
      };
      return lines[e.change];
    }
    case "delivered":
      return undefined;
    case "rejected":
      return `! rejected a message: ${e.reason}`;
    case "status":
      return undefined;
  }
}

/** JSON for an event; a message event prints as the message object itself (conversation, from, text, sentAt…). */
export function eventJson(e: ClientEvent): unknown {
  return e.type === "message" ? { type: "message", ...e.message } : e;
}
