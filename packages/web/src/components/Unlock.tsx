import { EncryptedStoreError } from "@parley/core";
import { type FormEvent, useEffect, useId, useRef, useState } from "react";
import { Session } from "../session";
import { Logo } from "./Brand";
import { Dialog } from "./Dialog";

export function Unlock(props: { onReady: (session: Session) => void; onWiped: () => void; notice?: string }) {
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
    if (passphrase.length === 0) return setError("Enter your passphrase.");
    setBusy(true);
    setError(null);
    try {
      props.onReady(await Session.unlock(passphrase));
    } catch (err) {
      setBusy(false);
      if (err instanceof EncryptedStoreError && err.code === "wrong_passphrase") {
        setError("Wrong passphrase. Check it and try again.");
        setPassphrase("");
        input.current?.focus();
      } else {
        setError(`Could not unlock: ${(err as Error).message}`);
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
          <h1>Unlock Parley</h1>
        </div>
        <p className="lead">
          {props.notice ?? "Your conversations on this device are encrypted with your passphrase."}
        </p>
        <div className="field">
          <label htmlFor={passId}>Passphrase</label>
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
          {busy ? "Unlocking…" : "Unlock"}
        </button>
        <p className="muted small">
          Forgot it? Nobody can recover it.{" "}
          <button type="button" className="link-button danger-text" onClick={() => setConfirmWipe(true)}>
            Wipe this device
          </button>{" "}
          and start again.
        </p>
      </form>
      {confirmWipe && (
        <Dialog title="Wipe this device?" onClose={() => setConfirmWipe(false)}>
          <p>
            This deletes your profile, contacts and every message from this browser. It cannot be undone. Your
            contacts will not be able to reach you here again.
          </p>
          <div className="actions">
            <button type="button" onClick={() => setConfirmWipe(false)}>
              Cancel
            </button>
            <button type="button" className="danger" onClick={wipe}>
              Wipe everything
            </button>
          </div>
        </Dialog>
      )}
    </main>
  );
}
