/**
 * Issue 13 in the web app: resetting our keys after a device was compromised (in Settings), and
 * accepting a verified contact's changed safety number (in the chat's warning).
 */
import type { ParleyClient } from "@parley/core";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { friendlyError } from "../groups";
import type { Session } from "../session";

/** "Reset my keys": a plain explanation, a confirmation, then the engine's resetKeys. */
export function ResetKeys(props: { session: Session }) {
  const { t } = useTranslation();
  const [step, setStep] = useState<"idle" | "confirm" | "busy" | "done">("idle");
  const [result, setResult] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function reset() {
    setStep("busy");
    setError(null);
    try {
      const r = await props.session.client.resetKeys();
      setResult(
        r.pending.length > 0 ? t("resetKeys.donePending", { count: r.pending.length }) : t("resetKeys.done"),
      );
      setStep("done");
    } catch (e) {
      setError(friendlyError(e));
      setStep("confirm");
    }
  }

  return (
    <>
      <h3>{t("resetKeys.title")}</h3>
      <p className="hint">{t("resetKeys.explain")}</p>
      {step === "idle" && (
        <div className="actions">
          <button type="button" className="danger-outline" onClick={() => setStep("confirm")}>
            {t("resetKeys.reset")}
          </button>
        </div>
      )}
      {(step === "confirm" || step === "busy") && (
        <div className="warning" role="alert">
          <p>{t("resetKeys.confirm")}</p>
          <div className="actions">
            <button type="button" className="danger" disabled={step === "busy"} onClick={() => void reset()}>
              {step === "busy" ? t("resetKeys.resetting") : t("resetKeys.yes")}
            </button>
            <button type="button" disabled={step === "busy"} onClick={() => setStep("idle")}>
              {t("common.cancel")}
            </button>
          </div>
        </div>
      )}
      {result && (
        <p className="hint" role="status">
          {result}
        </p>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </>
  );
}

/** The chat's warning, for a verified contact whose key changed: nothing is sent until accepted. */
export function AcceptKeyChange(props: {
  client: ParleyClient;
  contactId: string;
  name: string;
  onAccepted: () => void;
}) {
  const { t } = useTranslation();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function accept() {
    setBusy(true);
    setError(null);
    try {
      await props.client.acceptKeyChange(props.contactId);
      props.onAccepted();
    } catch (e) {
      setError(friendlyError(e));
    } finally {
      setBusy(false);
    }
  }
  return (
    <p>
      {t("resetKeys.mustAccept", { name: props.name })}{" "}
      <button type="button" className="link-button" disabled={busy} onClick={() => void accept()}>
        {t("resetKeys.accept")}
      </button>
      {error && <span className="error"> {error}</span>}
    </p>
  );
}
