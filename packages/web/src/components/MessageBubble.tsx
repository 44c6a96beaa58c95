import type { MessageView, ParleyClient } from "@parley/core";
import { useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { deliveryLabel, deliveryTicks } from "../format";
import { personName } from "../groups";
import { joinList } from "../i18n";
import { COMMON_REACTIONS, myReaction, quoteSummary, shortText, textParts } from "../messages";
import { FileCard } from "./FileCard";

/** What a person can do to a message from its bubble. */
export interface MessageActions {
  onReply: (m: MessageView) => void;
  /** One emoji, replacing ours; null takes ours back. */
  onReact: (m: MessageView, emoji: string | null) => void;
  onEdit: (m: MessageView) => void;
  onDelete: (m: MessageView) => void;
}

/**
 * One message: its quote (a reply), file card, text with its @mentions, time, "edited", delivery,
 * reactions, and the actions shown on hover, keyboard focus or a tap: Reply, React (a small
 * picker), and for our own messages Edit and Delete (for everyone, after a confirmation).
 */
export function MessageBubble(props: {
  message: MessageView;
  /** Group: the sender's name above the first of their consecutive messages. */
  showSender: boolean;
  /** Who sent it, for screen readers ("You", a name). */
  sender: string;
  canAct: boolean;
  time: string;
  client: ParleyClient;
  onFileError: (e: unknown) => void;
  actions: MessageActions;
}) {
  const { t } = useTranslation();
  const { message: m, actions } = props;
  const [open, setOpen] = useState<"none" | "actions" | "react" | "delete">("none");
  const item = useRef<HTMLLIElement>(null);
  // Open actions (a tap, the picker, the confirmation) close when one taps or clicks elsewhere.
  useEffect(() => {
    if (open === "none") return;
    const outside = (e: PointerEvent) => {
      if (!item.current?.contains(e.target as Node)) setOpen("none");
    };
    document.addEventListener("pointerdown", outside);
    return () => document.removeEventListener("pointerdown", outside);
  }, [open]);
  const deleted = m.deleted !== undefined;
  const stranger = m.from.relation === "member";
  const pending = m.id.startsWith("pending-");
  const canAct = props.canAct && !deleted && !pending;
  const mine = myReaction(m);
  const classes = ["message", m.fromMe ? "mine" : "theirs"];
  if (m.mentionsMe) classes.push("mentions-me");
  if (open !== "none") classes.push("selected");

  const toolbar = canAct && (
    <div className="message-actions" role="toolbar" aria-label={t("message.actions")}>
      {open === "delete" ? (
        <>
          <span className="confirm-text">{t("message.deleteQuestion")}</span>
          <button
            type="button"
            className="danger"
            onClick={() => {
              setOpen("none");
              actions.onDelete(m);
            }}
          >
            {t("message.deleteForEveryone")}
          </button>
          <button type="button" onClick={() => setOpen("none")}>
            {t("common.cancel")}
          </button>
        </>
      ) : (
        <>
          <button type="button" onClick={() => actions.onReply(m)}>
            {t("message.reply")}
          </button>
          <button
            type="button"
            aria-expanded={open === "react"}
            onClick={() => setOpen(open === "react" ? "actions" : "react")}
          >
            {t("message.react")}
          </button>
          {m.fromMe && (
            <>
              <button type="button" onClick={() => actions.onEdit(m)}>
                {t("message.edit")}
              </button>
              <button type="button" onClick={() => setOpen("delete")}>
                {t("message.delete")}
              </button>
            </>
          )}
        </>
      )}
      {open === "react" && (
        <div className="reaction-picker" role="menu" aria-label={t("message.pickReaction")}>
          {COMMON_REACTIONS.map((emoji) => (
            <button
              key={emoji}
              type="button"
              role="menuitemradio"
              aria-checked={mine === emoji}
              aria-label={t("message.reactWith", { emoji })}
              className={mine === emoji ? "picked" : undefined}
              onClick={() => {
                setOpen("none");
                actions.onReact(m, mine === emoji ? null : emoji);
              }}
            >
              {emoji}
            </button>
          ))}
        </div>
      )}
    </div>
  );

  return (
    <li
      ref={item}
      className={classes.join(" ")}
      data-message-id={m.id}
      onMouseLeave={() => open === "actions" && setOpen("none")}
    >
      <div className="message-body">
        {/* A tap on the bubble shows its actions (touch screens have no hover). */}
        {/* biome-ignore lint/a11y/useKeyWithClickEvents: the actions are reachable by Tab (focus-within shows them) */}
        {/* biome-ignore lint/a11y/noStaticElementInteractions: a convenience for touch; keyboards use Tab */}
        <div
          className={deleted ? "bubble deleted" : "bubble"}
          onClick={() => canAct && open === "none" && setOpen("actions")}
        >
          <span className="sr-only">{t("message.senderSays", { sender: props.sender })}</span>
          {props.showSender && (
            <p className="sender" aria-hidden="true">
              {personName(m.from)}
              {stranger && <span className="sender-note">{t("message.notContact")}</span>}
            </p>
          )}
          {m.quote && !deleted && <Quote quote={m.quote} />}
          {deleted ? (
            <p className="text deleted-text">
              {m.fromMe ? t("message.youDeleted") : t("message.wasDeleted")}
            </p>
          ) : (
            <>
              {m.file && (
                <FileCard file={m.file} mine={m.fromMe} client={props.client} onError={props.onFileError} />
              )}
              {(!m.file || m.text) && (
                <p className="text" dir="auto">
                  {textParts(m).map((part, i) =>
                    part.mention ? (
                      // biome-ignore lint/suspicious/noArrayIndexKey: parts of one text, in order
                      <span key={i} className={part.mention.me ? "mention mention-me" : "mention"}>
                        {part.text}
                      </span>
                    ) : (
                      part.text
                    ),
                  )}
                </p>
              )}
            </>
          )}
          <p className="meta">
            {m.edited && !deleted && <span className="edited">{t("message.edited")}</span>}
            <time dateTime={m.sentAt}>{props.time}</time>
            {m.fromMe && <DeliveryStatus message={m} />}
          </p>
        </div>
        {m.reactions && m.reactions.length > 0 && (
          <ul className="reactions" aria-label={t("message.reactions")}>
            {m.reactions.map((r) => (
              <li key={r.emoji}>
                <button
                  type="button"
                  className={r.mine ? "reaction mine-reaction" : "reaction"}
                  aria-pressed={r.mine}
                  disabled={!canAct}
                  title={joinList(r.by.map((p) => (p.relation === "me" ? t("common.you") : personName(p))))}
                  aria-label={t(r.mine ? "message.reactionCountMine" : "message.reactionCount", {
                    emoji: r.emoji,
                    count: r.count,
                  })}
                  onClick={() => actions.onReact(m, r.mine ? null : r.emoji)}
                >
                  <span aria-hidden="true">{r.emoji}</span> <span aria-hidden="true">{r.count}</span>
                </button>
              </li>
            ))}
          </ul>
        )}
      </div>
      {toolbar}
    </li>
  );
}

function Quote(props: { quote: NonNullable<MessageView["quote"]> }) {
  const { who, text } = quoteSummary(props.quote);
  return (
    <blockquote className={props.quote.deleted || props.quote.missing ? "quote gone" : "quote"}>
      {who && <span className="quote-who">{who}</span>}
      <span className="quote-text">{text}</span>
    </blockquote>
  );
}

/** "Replying to Bob: …" / "Editing your message" above the composer, with a way out. */
export function ComposerContext(props: {
  mode: "reply" | "edit";
  message: MessageView;
  onCancel: () => void;
}) {
  const { t } = useTranslation();
  const { mode, message: m } = props;
  const who = m.fromMe ? t("common.yourself") : personName(m.from);
  return (
    <div className="composer-context" role="status">
      <div>
        <strong>{mode === "reply" ? t("message.replyingTo", { name: who }) : t("message.editing")}</strong>
        <span className="composer-context-text">{shortText(m)}</span>
      </div>
      <button
        type="button"
        className="icon-button"
        aria-label={mode === "reply" ? t("message.cancelReply") : t("message.cancelEdit")}
        onClick={props.onCancel}
      >
        <span aria-hidden="true">×</span>
      </button>
    </div>
  );
}

/** Our message's state: ticks and a word ("Read"; in a group "Read by 2", the names on hover). */
function DeliveryStatus({ message: m }: { message: MessageView }) {
  const { t } = useTranslation();
  const state = m.readBy?.length ? "read" : m.status;
  const ticks = deliveryTicks(state);
  const label =
    state === "read" && m.kind === "group"
      ? t("message.readBy", { count: m.readBy!.length })
      : deliveryLabel(state);
  const readers = m.readBy && joinList(m.readBy.map(personName));
  return (
    <span className={`status status-${state}`} title={readers}>
      {ticks && (
        <span className="ticks" aria-hidden="true">
          {ticks}{" "}
        </span>
      )}
      <span>{label}</span>
    </span>
  );
}
