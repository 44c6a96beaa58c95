import { type FormEvent, useId, useState } from "react";
import { useTranslation } from "react-i18next";
import { friendlyError } from "../groups";
import { Dialog, FormFooter } from "./Dialog";

export function AddContactDialog(props: { onAccept: (link: string) => Promise<void>; onClose: () => void }) {
  const { t } = useTranslation();
  const [link, setLink] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const linkId = useId();
  const hintId = useId();

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (link.trim().length === 0) return setError(t("addContact.paste"));
    setBusy(true);
    setError(null);
    try {
      await props.onAccept(link.trim());
      props.onClose();
    } catch (err) {
      setError(friendlyError(err));
      setBusy(false);
    }
  }

  return (
    <Dialog title={t("addContact.title")} onClose={props.onClose}>
      <form onSubmit={submit} noValidate>
        <div className="field">
          <label htmlFor={linkId}>{t("common.inviteLink")}</label>
          <textarea
            id={linkId}
            className="mono"
            rows={3}
            aria-describedby={hintId}
            value={link}
            onChange={(e) => setLink(e.target.value)}
            data-autofocus
          />
          <p id={hintId} className="hint">
            {t("addContact.hint")}
          </p>
        </div>
        <FormFooter
          error={error}
          busy={busy}
          submitLabel={t("addContact.add")}
          busyLabel={t("common.connecting")}
          onCancel={props.onClose}
        />
      </form>
    </Dialog>
  );
}
