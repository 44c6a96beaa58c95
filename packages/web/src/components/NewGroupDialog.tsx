import { type FormEvent, useId, useState } from "react";
import { useTranslation } from "react-i18next";
import { friendlyError } from "../groups";
import { Dialog, FormFooter } from "./Dialog";

export function NewGroupDialog(props: {
  onCreate: (name: string, options: { pq: boolean }) => Promise<void>;
  onClose: () => void;
}) {
  const { t } = useTranslation();
  const [name, setName] = useState("");
  const [pq, setPq] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const nameId = useId();
  const hintId = useId();
  const pqHintId = useId();

  async function submit(e: FormEvent) {
    e.preventDefault();
    const trimmed = name.trim();
    if (trimmed.length === 0) return setError(t("newGroup.needName"));
    setBusy(true);
    setError(null);
    try {
      await props.onCreate(trimmed, { pq });
      props.onClose();
    } catch (err) {
      setError(friendlyError(err));
      setBusy(false);
    }
  }

  return (
    <Dialog title={t("newGroup.title")} onClose={props.onClose}>
      <form onSubmit={submit} noValidate>
        <div className="field">
          <label htmlFor={nameId}>{t("common.groupName")}</label>
          <input
            id={nameId}
            value={name}
            autoComplete="off"
            aria-describedby={hintId}
            onChange={(e) => setName(e.target.value)}
            data-autofocus
          />
          <p id={hintId} className="hint">
            {t("newGroup.hint")}
          </p>
        </div>
        <div className="field">
          <label className="check">
            <input
              type="checkbox"
              checked={pq}
              aria-describedby={pqHintId}
              onChange={(e) => setPq(e.target.checked)}
            />
            {t("newGroup.pq")}
          </label>
          <p id={pqHintId} className="hint">
            {t("newGroup.pqHint")}
          </p>
        </div>
        <FormFooter
          error={error}
          busy={busy}
          submitLabel={t("newGroup.create")}
          busyLabel={t("newGroup.creating")}
          onCancel={props.onClose}
        />
      </form>
    </Dialog>
  );
}
