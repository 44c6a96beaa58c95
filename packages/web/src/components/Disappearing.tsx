/**
 * Disappearing messages in the web app (issue 13): the timer in a conversation's settings (in a
 * group only admins may change it), and the words for its changes.
 */
import type { ClientEvent, ParleyClient } from "@parley/core";
import { useId } from "react";
import { useTranslation } from "react-i18next";
import type { ConversationSummary } from "../conversations";
import { personName } from "../groups";
import { t as translate } from "../i18n";

type ExpireSeconds = Parameters<ParleyClient["setExpiry"]>[1];

/** The timer's choices, in seconds (null: off). */
const CHOICES = [null, 30, 3600, 86_400, 604_800] as const;

/** "30 seconds", "1 day"… in the current language. */
export function expiryWords(seconds: number): string {
  if (seconds % 86_400 === 0) return translate("disappearing.days", { count: seconds / 86_400 });
  if (seconds % 3600 === 0) return translate("disappearing.hours", { count: seconds / 3600 });
  return translate("disappearing.seconds", { count: seconds });
}

/** The line a chat shows when someone changes the timer. */
export function expiryLine(event: Extract<ClientEvent, { type: "expire" }>): string {
  const who = event.by.relation === "me" ? translate("common.you") : personName(event.by);
  return event.seconds === null
    ? translate("disappearing.turnedOff", { who })
    : translate("disappearing.set", { who, time: expiryWords(event.seconds) });
}

/** The timer's choice; `onChoose` sends the change (ConversationSettings runs it, busy and errors). */
export function Disappearing(props: {
  conversation: ConversationSummary;
  busy: boolean;
  onChoose: (seconds: ExpireSeconds) => void;
}) {
  const c = props.conversation;
  const { t } = useTranslation();
  const id = useId();
  const allowed = c.kind === "direct" || c.admin;
  return (
    <div className="field">
      <label htmlFor={id}>{t("disappearing.label")}</label>
      <select
        id={id}
        value={c.expireAfter ?? "off"}
        disabled={props.busy || !allowed || !c.canSend}
        onChange={(e) =>
          props.onChoose(e.target.value === "off" ? null : (Number(e.target.value) as ExpireSeconds))
        }
      >
        {CHOICES.map((seconds) => (
          <option key={seconds ?? "off"} value={seconds ?? "off"}>
            {seconds === null ? t("disappearing.off") : expiryWords(seconds)}
          </option>
        ))}
      </select>
      <p className="hint">{allowed ? t("disappearing.hint") : t("disappearing.adminsOnly")}</p>
    </div>
  );
}
