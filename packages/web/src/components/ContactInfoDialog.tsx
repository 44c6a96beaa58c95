import type { ParleyClient } from "@parley/core";
import { type FormEvent, useEffect, useId, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import type { ConversationSummary } from "../conversations";
import { friendlyError } from "../groups";
import { ConversationSettings } from "./ConversationSettings";
import { Dialog } from "./Dialog";

type Mode = "info" | "rename" | "delete";

/**
 * A contact: our own name for them (rename), their safety number, and deleting them from this
 * device (with their chat; they are not told, and what they send no longer reaches us).
 */
export function ContactInfoDialog(props: {
  client: ParleyClient;
  conversation: ConversationSummary;
  onShowSafety: () => void;
  onRenamed: () => Promise<void>;
  /** Muted or archived. */
  onSettingsChanged: () => Promise<void>;
  onDeleted: () => Promise<void>;
  onClose: () => void;
}) {
  const { t } = useTranslation();
  const { client, conversation: c } = props;
  const contactId = c.contactId!;
  const [mode, setMode] = useState<Mode>("info");
  const [name, setName] = useState(c.title);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const nameId = useId();
  const nameInput = useRef<HTMLInputElement>(null);
  const cancelButton = useRef<HTMLButtonElement>(null);

  // Rename starts in its field; the delete confirmation on Cancel, the safe choice.
  useEffect(() => {
    if (mode === "rename") nameInput.current?.select();
    else if (mode === "delete") cancelButton.current?.focus();
  }, [mode]);

  /** Runs one change with the dialog busy; a failure is shown in it. True when it went through. */
  async function run(change: () => Promise<void>): Promise<boolean> {
    setBusy(true);
    setError(null);
    try {
      await change();
      return true;
    } catch (err) {
      setError(friendlyError(err));
      return false;
    } finally {
      setBusy(false);
    }
  }

  async function rename(e: FormEvent) {
    e.preventDefault();
    const wanted = name.trim();
    if (wanted.length === 0) return setError(t("contact.needName"));
    if (wanted === c.title) return setMode("info");
    const done = await run(async () => {
      await client.renameContact(contactId, wanted);
      await props.onRenamed();
    });
    if (done) setMode("info");
  }

  const block = (blocked: boolean) =>
    run(async () => {
      await client.blockContact(contactId, blocked);
      await props.onSettingsChanged();
    });

  async function remove() {
    const done = await run(async () => {
      await client.deleteContact(contactId);
      await props.onDeleted();
    });
    if (done) props.onClose();
  }

  const errorLine = error && (
    <p className="error" role="alert">
      {error}
    </p>
  );
  const back = () => {
    setError(null);
    setMode("info");
  };

  return (
    <Dialog
      title={mode === "delete" ? t("contact.deleteTitle", { name: c.title }) : t("contact.title")}
      onClose={props.onClose}
    >
      {mode === "rename" && (
        <form onSubmit={rename} noValidate>
          <div className="field">
            <label htmlFor={nameId}>{t("contact.yourName")}</label>
            <input
              id={nameId}
              value={name}
              autoComplete="off"
              onChange={(e) => setName(e.target.value)}
              ref={nameInput}
            />
          </div>
          <p className="hint">{t("contact.renameHint")}</p>
          {errorLine}
          <div className="actions">
            <button type="button" onClick={back}>
              {t("common.cancel")}
            </button>
            <button type="submit" className="primary" disabled={busy}>
              {busy ? t("common.saving") : t("common.saveName")}
            </button>
          </div>
        </form>
      )}
      {mode === "delete" && (
        <>
          <p>{t("contact.deleteText", { name: c.title })}</p>
          {errorLine}
          <div className="actions">
            <button type="button" onClick={back} ref={cancelButton}>
              {t("common.cancel")}
            </button>
            <button type="button" className="danger" disabled={busy} onClick={remove}>
              {busy ? t("contact.deleting") : t("contact.delete", { name: c.title })}
            </button>
          </div>
        </>
      )}
      {mode === "info" && (
        <>
          <div className="group-name-row">
            <div className="group-name-text">
              <span className="muted small">{t("contact.name")}</span>
              <strong>{c.title}</strong>
            </div>
            <button
              type="button"
              onClick={() => {
                setName(c.title);
                setError(null);
                setMode("rename");
              }}
            >
              {t("common.rename")}
            </button>
          </div>
          <p className="muted small">
            {c.keyChanged
              ? t("contact.keyChanged")
              : c.verified
                ? t("contact.verified")
                : t("contact.notVerified")}
          </p>
          <ConversationSettings client={client} conversation={c} onChanged={props.onSettingsChanged} />
          <div className="conversation-settings">
            <button type="button" disabled={busy} onClick={() => block(!c.blocked)}>
              {c.blocked ? t("contact.unblock") : t("contact.block")}
            </button>
            <span className="muted small">{c.blocked ? t("contact.blocked") : t("contact.blockHint")}</span>
          </div>
          {errorLine}
          <div className="actions">
            <button type="button" className="danger" onClick={() => setMode("delete")}>
              {t("contact.deleteContact")}
            </button>
            <button type="button" className="primary" onClick={props.onShowSafety}>
              {t("common.safetyNumber")}
            </button>
          </div>
        </>
      )}
    </Dialog>
  );
}
