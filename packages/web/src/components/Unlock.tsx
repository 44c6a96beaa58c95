import { EncryptedStoreError } from "@parley/core";
import { type FormEvent, useEffect, useId, useRef, useState } from "react";
import { Trans, useTranslation } from "react-i18next";
import { friendlyError } from "../groups";
import { Session } from "../session";
import { Logo } from "./Brand";
import { Dialog } from "./Dialog";

export function Unlock(props: { onReady: (session: Session) => void; onWiped: () => void; notice?: string }) {
  const { t } = useTranslation();
  const [passphrase, setPassphrase] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [confirmWipe, setConfirmWipe] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const passId = useId();
  const errorId = useId();

  useEffect(() => input.current?.focus(), []);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (passphrase.length === 0) return setError(t("unlock.needPassphrase"));
    setBusy(true);
    setError(null);
    try {
      props.onReady(await Session.unlock(passphrase));
    } catch (err) {
      setBusy(false);
      if (err instanceof EncryptedStoreError && err.code === "wrong_passphrase") {
        setError(t("unlock.wrong"));
        setPassphrase("");
        input.current?.focus();
      } else {
        setError(t("unlock.failed", { cause: friendlyError(err) }));
      }
    }
  }

  async function wipe() {
    await Session.wipeDevice();
    props.onWiped();
  }

  return (
    <main className="center-screen">
      <form className="card unlock" onSubmit={submit} noValidate>
        <div className="brand-row">
          <Logo size={36} />
          <h1>{t("unlock.title")}</h1>
        </div>
        <p className="lead">{props.notice ?? t("unlock.lead")}</p>
        <div className="field">
          <label htmlFor={passId}>{t("common.passphrase")}</label>
          <input
            ref={input}
            id={passId}
            name="passphrase"
            type="password"
            autoComplete="current-password"
            aria-invalid={error !== null}
            aria-describedby={error ? errorId : undefined}
            value={passphrase}
            onChange={(e) => setPassphrase(e.target.value)}
          />
        </div>
        {error && (
          <p id={errorId} className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="primary wide" disabled={busy}>
          {busy ? t("unlock.unlocking") : t("unlock.unlock")}
        </button>
        <p className="muted small">
          <Trans
            i18nKey="unlock.forgot"
            components={{
              wipe: (
                <button
                  type="button"
                  className="link-button danger-text"
                  onClick={() => setConfirmWipe(true)}
                />
              ),
            }}
          />
        </p>
      </form>
      {confirmWipe && (
        <Dialog title={t("common.wipeDeviceQuestion")} onClose={() => setConfirmWipe(false)}>
          <p>{t("unlock.wipeText")}</p>
          <div className="actions">
            <button type="button" onClick={() => setConfirmWipe(false)}>
              {t("common.cancel")}
            </button>
            <button type="button" className="danger" onClick={wipe}>
              {t("common.wipeEverything")}
            </button>
          </div>
        </Dialog>
      )}
    </main>
  );
}
