import type { ParleyClient } from "@parley/core";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import type { ConversationSummary } from "../conversations";
import { friendlyError } from "../groups";
import { Disappearing } from "./Disappearing";

/**
 * Mute (no notifications) and archive (out of the list until something new arrives) for one chat
 * or group: settings of this device only, never sent anywhere. And whether this chat or group is
 * told when we have read its messages, or are typing (on by default in chats, off in groups).
 */
export function ConversationSettings(props: {
  client: ParleyClient;
  conversation: ConversationSummary;
  onChanged: () => Promise<void>;
}) {
  const { t } = useTranslation();
  const { client, conversation: c } = props;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const change = (settings: Parameters<ParleyClient["setConversationSettings"]>[1]) =>
    act(() => client.setConversationSettings(c.id, settings));

  async function act(work: () => Promise<unknown>) {
    setBusy(true);
    setError(null);
    try {
      await work();
      await props.onChanged();
    } catch (e) {
      setError(friendlyError(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="conversation-settings">
      <button
        type="button"
        disabled={busy}
        aria-pressed={c.muted}
        onClick={() => change({ muted: !c.muted })}
      >
        {c.muted ? t("conversation.unmute") : t("conversation.mute")}
      </button>
      <button type="button" disabled={busy} onClick={() => change({ archived: !c.archived })}>
        {c.archived ? t("conversation.unarchive") : t("conversation.archive")}
      </button>
      <span className="muted small">
        {c.muted
          ? t(c.archived ? "conversation.mutedArchived" : "conversation.mutedOnly")
          : c.archived
            ? t("conversation.archivedOnly")
            : ""}
      </span>
      <label className="check-row">
        <input
          type="checkbox"
          disabled={busy}
          checked={c.readReceipts}
          onChange={(e) => change({ readReceipts: e.target.checked })}
        />
        {t("conversation.readReceipts")}
      </label>
      <label className="check-row">
        <input
          type="checkbox"
          disabled={busy}
          checked={c.typingIndicators}
          onChange={(e) => change({ typingIndicators: e.target.checked })}
        />
        {t("conversation.typingIndicators")}
      </label>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <Disappearing
        conversation={c}
        busy={busy}
        onChoose={(seconds) => act(() => client.setExpiry(c.id, seconds))}
      />
    </div>
  );
}
