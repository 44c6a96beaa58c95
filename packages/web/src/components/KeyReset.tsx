/**
 * Issue 13 in the web app: resetting our keys after a device was compromised (in Settings), and
 * accepting a verified contact's changed safety number (in the chat's warning).
 */
import type { ParleyClient } from "@parley/core";
import { useState } from "react";
import { friendlyError } from "../groups";
import type { Session } from "../session";

/** "Reset my keys": a plain explanation, a confirmation, then the engine's resetKeys. */
export function ResetKeys(props: { session: Session }) {
  const [step, setStep] = useState<"idle" | "confirm" | "busy" | "done">("idle");
  const [result, setResult] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function reset() {
    setStep("busy");
    setError(null);
    try {
      const r = await props.session.client.resetKeys();
      setResult(
        r.pending.length > 0
          ? `Your keys are new. ${r.pending.length} conversations could not be reached and still use the old keys: reset again later to carry them over.`
          : "Your keys are new in every chat and group. Ask your contacts to compare safety numbers with you again.",
      );
      setStep("done");
    } catch (e) {
      setError(friendlyError(e));
      setStep("confirm");
    }
  }

  return (
    <>
      <h3>If a device of yours was compromised</h3>
      <p className="hint">
        If a phone or computer with your Parley on it was taken or infected, reset your keys from a device you
        trust. You get a new safety number; a copy of your profile made before can then no longer read what is
        sent to you or write as you. Your contacts are asked to compare safety numbers with you again. Your
        history stays.
      </p>
      {step === "idle" && (
        <div className="actions">
          <button type="button" className="danger-outline" onClick={() => setStep("confirm")}>
            Reset my keys
          </button>
        </div>
      )}
      {(step === "confirm" || step === "busy") && (
        <div className="warning" role="alert">
          <p>
            Reset now? Every contact will see that your safety number changed. Pending invite links stop
            working.
          </p>
          <div className="actions">
            <button type="button" className="danger" disabled={step === "busy"} onClick={() => void reset()}>
              {step === "busy" ? "Resetting…" : "Yes, reset my keys"}
            </button>
            <button type="button" disabled={step === "busy"} onClick={() => setStep("idle")}>
              Cancel
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
      You had verified {props.name}: nothing is sent to them until you accept the new safety number (or
      compare it again).{" "}
      <button type="button" className="link-button" disabled={busy} onClick={() => void accept()}>
        Accept the new safety number
      </button>
      {error && <span className="error"> {error}</span>}
    </p>
  );
}
