/**
 * Disappearing messages in the web app (issue 13): the timer in a conversation's settings (in a
 * group only admins may change it), and the words for its changes.
 */
import type { ClientEvent, ParleyClient } from "@parley/core";
import { useId } from "react";
import type { ConversationSummary } from "../conversations";
import { personName } from "../groups";

type ExpireSeconds = Parameters<ParleyClient["setExpiry"]>[1];

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

/** The timer's choice; `onChoose` sends the change (ConversationSettings runs it, busy and errors). */
export function Disappearing(props: {
  conversation: ConversationSummary;
  busy: boolean;
  onChoose: (seconds: ExpireSeconds) => void;
}) {
  const c = props.conversation;
  const id = useId();
  const allowed = c.kind === "direct" || c.admin;
  return (
    <div className="field">
      <label htmlFor={id}>Disappearing messages</label>
      <select
        id={id}
        value={c.expireAfter ?? "off"}
        disabled={props.busy || !allowed || !c.canSend}
        onChange={(e) =>
          props.onChoose(e.target.value === "off" ? null : (Number(e.target.value) as ExpireSeconds))
        }
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
    </div>
  );
}
