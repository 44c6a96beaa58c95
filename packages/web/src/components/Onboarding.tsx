import { type FormEvent, useId, useState } from "react";
import { useTranslation } from "react-i18next";
import { friendlyError } from "../groups";
import { MIN_PASSPHRASE_LENGTH, Session } from "../session";
import { Logo } from "./Brand";
import { LinkThisDevice } from "./LinkThisDevice";
import { NewPassphrase, passphraseProblem } from "./NewPassphrase";

export function Onboarding(props: {
  onReady: (session: Session) => void;
  hasInvite: boolean;
  /** A device link opened in the address bar (`…/#/link/…`): this browser is to be linked. */
  deviceLink?: string | null;
}) {
  const { t } = useTranslation();
  const [linking, setLinking] = useState(Boolean(props.deviceLink));
  const [name, setName] = useState("");
  const [passphrase, setPassphrase] = useState("");
  const [confirm, setConfirm] = useState("");
  // The app talks to the relay that serves it, and only to it: its Content-Security-Policy allows
  // no other origin, and an app that could be pointed elsewhere would hang on "Connecting…" (issue
  // 14). Another relay is used by opening the web app that relay serves.
  const relay = window.location.origin;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const nameId = useId();
  const errorId = useId();

  if (linking) {
    return (
      <LinkThisDevice
        {...(props.deviceLink ? { initialLink: props.deviceLink } : {})}
        onReady={props.onReady}
        onBack={() => setLinking(false)}
      />
    );
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    if (name.trim().length === 0) return setError(t("onboarding.needName"));
    const problem = passphraseProblem(passphrase, confirm);
    if (problem) return setError(problem);
    setBusy(true);
    try {
      const session = await Session.create({ name: name.trim(), passphrase, relay });
      props.onReady(session);
    } catch (err) {
      setError(t("onboarding.failed", { cause: friendlyError(err) }));
      setBusy(false);
    }
  }

  return (
    <main className="center-screen">
      <form
        className="card onboarding"
        onSubmit={submit}
        aria-describedby={error ? errorId : undefined}
        noValidate
      >
        <div className="brand-row">
          <Logo size={36} />
          <h1>{t("onboarding.welcome")}</h1>
        </div>
        <p className="lead">{t("onboarding.lead")}</p>
        {props.hasInvite && <p className="notice">{t("onboarding.hasInvite")}</p>}

        <div className="field">
          <label htmlFor={nameId}>{t("common.displayName")}</label>
          <input
            id={nameId}
            name="name"
            autoComplete="nickname"
            value={name}
            onChange={(e) => setName(e.target.value)}
            required
          />
        </div>

        <NewPassphrase
          passphrase={passphrase}
          confirm={confirm}
          onPassphrase={setPassphrase}
          onConfirm={setConfirm}
          hint={t("onboarding.passphraseHint", { min: MIN_PASSPHRASE_LENGTH })}
        />

        <p className="hint">{t("onboarding.relay", { relay })}</p>

        {error && (
          <p id={errorId} className="error" role="alert">
            {error}
          </p>
        )}

        <button type="submit" className="primary wide" disabled={busy}>
          {busy ? t("onboarding.creating") : t("onboarding.create")}
        </button>
        <p className="hint other-device">{t("onboarding.otherDevice")}</p>
        <button type="button" className="wide" onClick={() => setLinking(true)}>
          {t("onboarding.linkExisting")}
        </button>
      </form>
    </main>
  );
}
