import type { MessageView } from "@parley/core";
import { type FormEvent, type KeyboardEvent, useEffect, useLayoutEffect, useRef, useState } from "react";
import { deliveryLabel, formatMessageTime } from "../format";
import type { ConversationSummary } from "./ConversationList";

export function ChatView(props: {
  conversation: ConversationSummary;
  messages: MessageView[];
  onSend: (text: string) => Promise<void>;
  onShowSafety: () => void;
  onBack: () => void;
}) {
  const { conversation: c, messages } = props;
  const [draft, setDraft] = useState("");
  const listRef = useRef<HTMLOListElement>(null);
  const composer = useRef<HTMLTextAreaElement>(null);

  useEffect(() => composer.current?.focus(), []);

  // Keep the newest message in view as messages arrive.
  // biome-ignore lint/correctness/useExhaustiveDependencies: scroll whenever the list changes
  useLayoutEffect(() => {
    const list = listRef.current;
    if (list) list.scrollTop = list.scrollHeight;
  }, [messages]);

  function submit(e?: FormEvent) {
    e?.preventDefault();
    const text = draft.trim();
    if (text.length === 0 || !c.canSend) return;
    setDraft("");
    props.onSend(text).catch(() => {});
    composer.current?.focus();
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    // Enter sends; Shift+Enter starts a new line; never while an input method is composing.
    if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      submit();
    }
  }

  return (
    <section className="chat" aria-label={`Conversation with ${c.title}`}>
      <header className="chat-head">
        <button
          type="button"
          className="icon-button back"
          aria-label="Back to conversations"
          onClick={props.onBack}
        >
          <span aria-hidden="true">‹</span>
        </button>
        <div className="chat-title">
          <h2>{c.title}</h2>
          <span className="muted small">
            {c.keyChanged ? "Safety number changed" : c.verified ? "Verified contact" : "Not verified yet"}
          </span>
        </div>
        <button type="button" onClick={props.onShowSafety}>
          Safety number
        </button>
      </header>

      {c.keyChanged && (
        <div className="warning" role="alert">
          <strong>{c.title}'s security key has changed.</strong> This can mean they set Parley up again, or
          that someone is trying to listen in. Compare the safety number with {c.title} before you trust new
          messages.{" "}
          <button type="button" className="link-button" onClick={props.onShowSafety}>
            Check the safety number
          </button>
        </div>
      )}

      <ol className="messages" ref={listRef} role="log" aria-label="Messages">
        {messages.length === 0 && (
          <li className="messages-empty muted">
            {c.canSend
              ? `This is the start of your conversation with ${c.title}. Messages are end-to-end encrypted.`
              : `Waiting for ${c.title} to finish connecting…`}
          </li>
        )}
        {messages.map((m) => (
          <li key={m.id} className={m.fromMe ? "message mine" : "message theirs"}>
            <div className="bubble">
              <span className="sr-only">{m.fromMe ? "You:" : `${c.title}:`} </span>
              <p className="text">{m.text}</p>
              <p className="meta">
                <time dateTime={m.sentAt}>
                  {formatMessageTime(m.receivedAt && !m.fromMe ? m.receivedAt : m.sentAt)}
                </time>
                {m.fromMe && <span className={`status status-${m.status}`}>{deliveryLabel(m.status)}</span>}
              </p>
            </div>
          </li>
        ))}
      </ol>

      <form className="composer" onSubmit={submit}>
        <textarea
          ref={composer}
          aria-label="Message"
          placeholder={c.canSend ? `Message ${c.title}` : "Waiting for the contact to connect…"}
          rows={1}
          value={draft}
          disabled={!c.canSend}
          onChange={(e) => setDraft(e.target.value)}
          onKeyDown={onKeyDown}
        />
        <button type="submit" className="primary" disabled={!c.canSend || draft.trim().length === 0}>
          Send
        </button>
      </form>
    </section>
  );
}
