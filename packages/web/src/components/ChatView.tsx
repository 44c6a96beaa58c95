import {
  type GroupMemberView,
  lengthIssue,
  MAX_CAPTION_LENGTH,
  MAX_TEXT_LENGTH,
  type MessageView,
  type ParleyClient,
} from "@parley/core";
import { type FormEvent, type KeyboardEvent, useEffect, useLayoutEffect, useRef, useState } from "react";
import { Trans, useTranslation } from "react-i18next";
import type { ConversationSummary } from "../conversations";
import { formatMessageTime, formatNumber } from "../format";
import { mergeTimeline, needsReadd, personName } from "../groups";
import { joinList, t as translate } from "../i18n";
import { expiryWords, lineText, type SystemLine } from "../lines";
import { insertMention, mentionCandidates, mentionQuery } from "../messages";
import { AcceptKeyChange } from "./KeyReset";
import { ComposerContext, MessageBubble } from "./MessageBubble";

function messageTime(m: MessageView): number {
  return Date.parse(m.receivedAt && !m.fromMe ? m.receivedAt : m.sentAt);
}

function groupSubtitle(c: ConversationSummary, members: GroupMemberView[] | null): string {
  if (c.status === "removed") return translate("chat.removed");
  if (c.status === "left") return translate("chat.left");
  if (c.status === "needs-readd") return translate("chat.needsReadd");
  if (!members) return translate("chat.group");
  if (members.length === 1) return translate("chat.onlyYou");
  return translate("chat.members", { count: members.length });
}

export function ChatView(props: {
  conversation: ConversationSummary;
  messages: MessageView[];
  /** Groups: the lines between messages ("Carol was added") and the members, when known. */
  lines: SystemLine[];
  members: GroupMemberView[] | null;
  /** Sends; reports its own failure (the banner says the message was not sent, and why). */
  onSend: (text: string) => void;
  /** Replies to, reacts to, edits or deletes a message (each reports its own failure). */
  onReply: (target: MessageView, text: string) => void;
  onReact: (target: MessageView, emoji: string | null) => void;
  onEdit: (target: MessageView, text: string) => void;
  onDelete: (target: MessageView) => void;
  /** Files: sending one (attach button, drag and drop), uploads in progress, fetching. */
  client: ParleyClient;
  onSendFile: (file: File) => void;
  uploads: { id: string; name: string; progress: number }[];
  onFileError: (e: unknown) => void;
  onShowSafety: () => void;
  /** A verified contact's changed key was accepted (sending resumes). */
  onKeyAccepted: () => void;
  /** A 1:1 chat's contact: rename, delete. */
  onShowContact: () => void;
  onShowGroup: (mode: "info" | "add") => void;
  onBack: () => void;
  /** Who is typing here now (names), and: the person is typing (sent where it is allowed). */
  typing: string[];
  onTyping: () => void;
}) {
  const { t } = useTranslation();
  const { conversation: c, messages, members } = props;
  const isGroup = c.kind === "group";
  const active = c.status === "active";
  const [draft, setDraft] = useState("");
  const listRef = useRef<HTMLOListElement>(null);
  const composer = useRef<HTMLTextAreaElement>(null);
  const picker = useRef<HTMLInputElement>(null);
  const [dragging, setDragging] = useState(false);
  /** The message being answered or edited: shown above the composer, the next send is for it. */
  const [context, setContext] = useState<{ mode: "reply" | "edit"; message: MessageView } | null>(null);
  /** Groups: the "@…" being typed, for the list of members it can mean. */
  const [mention, setMention] = useState<{ start: number; query: string } | null>(null);
  const candidates = isGroup && mention && members ? mentionCandidates(members, mention.query) : [];

  function sendFiles(files: FileList | null) {
    if (!files || !c.canSend || !active) return;
    for (const file of Array.from(files)) props.onSendFile(file);
  }

  useEffect(() => composer.current?.focus(), []);

  // Keep the newest message in view as messages arrive.
  // biome-ignore lint/correctness/useExhaustiveDependencies: scroll whenever the list changes
  useLayoutEffect(() => {
    const list = listRef.current;
    if (list) list.scrollTop = list.scrollHeight;
  }, [messages, props.lines]);

  // Counted as the engine counts (characters a person sees: "你好👋🏻" is 3), so the box refuses
  // exactly what would be refused; editing a file message changes its caption, which is shorter.
  const limit = context?.mode === "edit" && context.message.file ? MAX_CAPTION_LENGTH : MAX_TEXT_LENGTH;
  const overLimit = lengthIssue(draft.trim(), limit);

  function submit(e?: FormEvent) {
    e?.preventDefault();
    const text = draft.trim();
    if (text.length === 0 || overLimit || !c.canSend) return;
    setDraft("");
    setMention(null);
    if (context?.mode === "edit") props.onEdit(context.message, text);
    else if (context?.mode === "reply") props.onReply(context.message, text);
    else props.onSend(text);
    setContext(null);
    composer.current?.focus();
  }

  function startReply(m: MessageView) {
    if (context?.mode === "edit") setDraft("");
    setContext({ mode: "reply", message: m });
    composer.current?.focus();
  }

  function startEdit(m: MessageView) {
    setContext({ mode: "edit", message: m });
    setDraft(m.text);
    composer.current?.focus();
  }

  function cancelContext() {
    if (context?.mode === "edit") setDraft("");
    setContext(null);
    composer.current?.focus();
  }

  function onDraftChange(value: string, caret: number) {
    if (value.length > draft.length) props.onTyping();
    setDraft(value);
    setMention(isGroup ? mentionQuery(value, caret) : null);
  }

  function pickMention(m: GroupMemberView) {
    if (!mention || !m.name) return;
    const caret = composer.current?.selectionStart ?? draft.length;
    const next = insertMention(draft, mention.start, caret, m.name);
    setDraft(next.draft);
    setMention(null);
    requestAnimationFrame(() => {
      const el = composer.current;
      if (!el) return;
      el.focus();
      // Only while nothing was typed since the pick: a fast typist's first letters went in already,
      // and moving the caret back put the rest of the word before them ("@Bob nd …?a").
      if (el.value === next.draft) el.setSelectionRange(next.caret, next.caret);
    });
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.key === "Escape" && (mention || context)) {
      e.preventDefault();
      if (mention) setMention(null);
      else cancelContext();
      return;
    }
    // With the mention list open, Enter (or Tab) picks its first name instead of sending.
    if ((e.key === "Enter" || e.key === "Tab") && candidates.length > 0 && !e.nativeEvent.isComposing) {
      e.preventDefault();
      pickMention(candidates[0]!);
      return;
    }
    // Enter sends; Shift+Enter starts a new line; never while an input method is composing.
    if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      submit();
    }
  }

  const timeline = mergeTimeline(messages, messageTime, isGroup ? props.lines : []);
  const alone = isGroup && active && members?.length === 1;
  const empty = messages.length === 0;

  return (
    <section
      className={dragging ? "chat dragging" : "chat"}
      aria-label={
        isGroup ? t("chat.groupLabel", { name: c.title }) : t("chat.conversationLabel", { name: c.title })
      }
      onDragOver={(e) => {
        if (!e.dataTransfer.types.includes("Files")) return;
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={(e) => {
        e.preventDefault();
        setDragging(false);
        sendFiles(e.dataTransfer.files);
      }}
    >
      <header className="chat-head">
        <button type="button" className="icon-button back" aria-label={t("chat.back")} onClick={props.onBack}>
          <span aria-hidden="true">‹</span>
        </button>
        {c.photo && (
          <img className="avatar avatar-photo" src={c.photo} alt={t("chat.photoOf", { name: c.title })} />
        )}
        <div className="chat-title">
          <h2>{c.title}</h2>
          <span className="muted small" aria-live="polite">
            {props.typing.length > 0 ? (
              <span className="typing">
                {isGroup
                  ? t("chat.typingGroup", { names: joinList(props.typing), count: props.typing.length })
                  : t("chat.typing")}
              </span>
            ) : isGroup ? (
              groupSubtitle(c, members)
            ) : c.keyChanged ? (
              t("chat.keyChangedShort")
            ) : c.verified ? (
              t("chat.verified")
            ) : (
              t("chat.notVerified")
            )}
            {c.expireAfter ? t("chat.expireAfter", { time: expiryWords(c.expireAfter) }) : ""}
          </span>
        </div>
        {isGroup ? (
          active && (
            <button type="button" onClick={() => props.onShowGroup("info")}>
              {t("chat.groupInfo")}
            </button>
          )
        ) : (
          <div className="chat-head-actions">
            <button type="button" onClick={props.onShowContact}>
              {t("chat.contact")}
            </button>
            <button type="button" className="safety-button" onClick={props.onShowSafety}>
              {t("common.safetyNumber")}
            </button>
          </div>
        )}
      </header>

      {c.keyChanged && (
        <div className="warning" role="alert">
          <Trans i18nKey="chat.keyChanged" values={{ name: c.title }} components={{ b: <strong /> }} />{" "}
          <button type="button" className="link-button" onClick={props.onShowSafety}>
            {t("chat.checkSafety")}
          </button>
          {c.mustAccept && c.contactId && (
            <AcceptKeyChange
              client={props.client}
              contactId={c.contactId}
              name={c.title}
              onAccepted={props.onKeyAccepted}
            />
          )}
        </div>
      )}

      <ol className="messages" ref={listRef} role="log" aria-label={t("chat.messages")}>
        {empty && !isGroup && (
          <li className="messages-empty muted">
            {c.canSend ? t("chat.start", { name: c.title }) : t("chat.waitingFor", { name: c.title })}
          </li>
        )}
        {empty && isGroup && active && (
          <li className="messages-empty muted">
            {alone ? (
              <>
                <span>{t("chat.aloneIn", { name: c.title })}</span>{" "}
                {c.admin ? (
                  <>
                    <span>{t("chat.addToStart")}</span>
                    <span className="empty-action">
                      <button type="button" className="primary" onClick={() => props.onShowGroup("add")}>
                        {t("chat.addPeople")}
                      </button>
                    </span>
                  </>
                ) : null}
              </>
            ) : (
              t("chat.groupStart", { name: c.title })
            )}
          </li>
        )}
        {timeline.map((item, i) => {
          if (item.kind === "system") {
            return (
              <li key={item.line.id} className="system-line">
                <span>{lineText(item.line.event)}</span>
              </li>
            );
          }
          const m = item.message;
          const prev = timeline[i - 1];
          // In a group, name the sender above the first of their consecutive messages.
          const showSender =
            isGroup &&
            !m.fromMe &&
            !(
              prev?.kind === "message" &&
              !prev.message.fromMe &&
              prev.message.from.identityKey === m.from.identityKey
            );
          const stranger = m.from.relation === "member";
          const sender = m.fromMe
            ? t("common.you")
            : isGroup
              ? stranger
                ? t("common.notContact", { name: personName(m.from) })
                : personName(m.from)
              : c.title;
          return (
            <MessageBubble
              key={m.id}
              message={m}
              showSender={showSender}
              sender={sender}
              canAct={active && c.canSend}
              time={formatMessageTime(new Date(messageTime(m)).toISOString())}
              client={props.client}
              onFileError={props.onFileError}
              actions={{
                onReply: startReply,
                onReact: props.onReact,
                onEdit: startEdit,
                onDelete: (target) => {
                  if (context?.message.id === target.id) cancelContext();
                  props.onDelete(target);
                },
              }}
            />
          );
        })}
      </ol>

      {props.uploads.length > 0 && (
        <ul className="uploads" aria-label={t("chat.uploads")}>
          {props.uploads.map((u) => (
            <li key={u.id}>
              <span>{u.name}</span>
              <progress value={u.progress} max={1} aria-label={t("chat.uploading", { name: u.name })} />
            </li>
          ))}
        </ul>
      )}

      {active ? (
        <form className="composer" onSubmit={submit}>
          {context && (
            <ComposerContext mode={context.mode} message={context.message} onCancel={cancelContext} />
          )}
          {candidates.length > 0 && (
            <fieldset className="mention-list">
              <legend className="sr-only">{t("chat.mention")}</legend>
              {candidates.map((m, i) => (
                <button
                  key={m.identityKey}
                  type="button"
                  className={i === 0 ? "first" : undefined}
                  onMouseDown={(e) => e.preventDefault()}
                  onClick={() => pickMention(m)}
                >
                  {personName(m)}
                </button>
              ))}
            </fieldset>
          )}
          <input
            ref={picker}
            type="file"
            multiple
            hidden
            aria-label={t("chat.chooseFiles")}
            onChange={(e) => {
              sendFiles(e.target.files);
              e.target.value = "";
            }}
          />
          <button
            type="button"
            className="icon-button attach"
            aria-label={t("chat.attach")}
            disabled={!c.canSend}
            onClick={() => picker.current?.click()}
          >
            {/* A drawn paper clip: an emoji needs a colour-emoji font the machine may not have. */}
            <svg
              aria-hidden="true"
              viewBox="0 0 24 24"
              width="20"
              height="20"
              fill="none"
              stroke="currentColor"
              strokeWidth="2"
              strokeLinecap="round"
              strokeLinejoin="round"
            >
              <path d="M21.44 11.05l-9.19 9.19a6 6 0 0 1-8.49-8.49l9.19-9.19a4 4 0 0 1 5.66 5.66l-9.2 9.19a2 2 0 0 1-2.83-2.83l8.49-8.48" />
            </svg>
          </button>
          <textarea
            ref={composer}
            dir="auto"
            aria-label={t("chat.message")}
            placeholder={
              c.canSend
                ? t("chat.placeholder", { name: c.title })
                : c.blocked
                  ? t("chat.youBlocked", { name: c.title })
                  : t("chat.waitingContact")
            }
            rows={1}
            value={draft}
            disabled={!c.canSend}
            onChange={(e) => onDraftChange(e.target.value, e.target.selectionStart)}
            onKeyDown={onKeyDown}
          />
          <button
            type="submit"
            className="primary"
            disabled={!c.canSend || draft.trim().length === 0 || overLimit !== undefined}
          >
            {context?.mode === "edit" ? t("common.save") : t("chat.send")}
          </button>
          {overLimit && (
            <p className="composer-limit" role="alert">
              {overLimit.reason === "size"
                ? t("chat.tooLarge")
                : t("chat.tooLong", {
                    length: formatNumber(overLimit.length),
                    max: formatNumber(overLimit.max),
                  })}
            </p>
          )}
        </form>
      ) : (
        <p className="composer-closed" role="status">
          {c.status === "removed"
            ? t("chat.closedRemoved")
            : c.status === "needs-readd"
              ? c.statusReason
                ? t("chat.closedReaddReason", { why: needsReadd(), reason: c.statusReason })
                : t("chat.closedReadd", { why: needsReadd() })
              : t("chat.closedLeft")}
        </p>
      )}
    </section>
  );
}

/** The main pane when no conversation is open. */
export function EmptyChat(props: { hasConversations: boolean }) {
  const { t } = useTranslation();
  return (
    <div className="empty-chat">
      <h2>{props.hasConversations ? t("empty.choose") : t("empty.none")}</h2>
      <p className="muted">{props.hasConversations ? t("empty.chooseText") : t("empty.noneText")}</p>
    </div>
  );
}
