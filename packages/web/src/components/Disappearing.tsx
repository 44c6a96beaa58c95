/**
 * Disappearing messages in the web app (issue 13): the timer in a conversation's settings (in a
 * group only admins may change it). Its lines in a chat ("Bob set messages to disappear") are
 * worded in lines.ts.
 */
import type { ParleyClient } from "@parley/core";
import { useId } from "react";
import { useTranslation } from "react-i18next";
import type { ConversationSummary } from "../conversations";
import { expiryWords } from "../lines";

type ExpireSeconds = Parameters<ParleyClient["setExpiry"]>[1];

/** The timer's choices, in seconds (null: off). */
const CHOICES = [null, 30, 3600, 86_400, 604_800] as const;

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
