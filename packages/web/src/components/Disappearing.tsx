/**
 * Disappearing messages in the web app (issue 13): the timer in a conversation's settings (in a
 * group only admins may change it), and the words for its changes.
 */
import type { ClientEvent, ParleyClient } from "@parley/core";
import { useId, useState } from "react";
import type { ConversationSummary } from "../conversations";
import { friendlyError, personName } from "../groups";

const CHOICES: [string, number | null][] = [
  ["Off", null],
  ["30 seconds", 30],
  ["1 hour", 3600],
  ["1 day", 86_400],
  ["7 days", 604_800],
];

/** "30 seconds", "1 day"… */
export function expiryWords(seconds: number): string {
  return CHOICES.find(([, s]) => s === seconds)?.[0] ?? `${seconds} seconds`;
}

/** The line a chat shows when someone changes the timer. */
export function expiryLine(event: Extract<ClientEvent, { type: "expire" }>): string {
  const who = event.by.relation === "me" ? "You" : personName(event.by);
  return event.seconds === null
    ? `${who} turned disappearing messages off`
    : `${who} set messages to disappear after ${expiryWords(event.seconds)}`;
}

export function Disappearing(props: {
  client: ParleyClient;
  conversation: ConversationSummary;
  onChanged: () => Promise<void>;
}) {
  const { client, conversation: c } = props;
  const id = useId();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const allowed = c.kind === "direct" || c.admin;

  async function choose(value: string) {
    setBusy(true);
    setError(null);
    try {
      const seconds = value === "off" ? null : Number(value);
      await client.setExpiry(c.id, seconds as Parameters<ParleyClient["setExpiry"]>[1]);
      await props.onChanged();
    } catch (e) {
      setError(friendlyError(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="field">
      <label htmlFor={id}>Disappearing messages</label>
      <select
        id={id}
        value={c.expireAfter ?? "off"}
        disabled={busy || !allowed || !c.canSend}
        onChange={(e) => void choose(e.target.value)}
      >
        {CHOICES.map(([label, seconds]) => (
          <option key={label} value={seconds ?? "off"}>
            {label}
          </option>
        ))}
      </select>
      <p className="hint">
        {allowed
          ? "Everyone's devices delete new messages, with their files, after this long. Everyone in the chat sees the change."
          : "Only the group's admins can change this."}
      </p>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
