import { type FormEvent, useId, useState } from "react";
import { MIN_PASSPHRASE_LENGTH, Session } from "../session";
import { Logo } from "./Brand";

export function Onboarding(props: { onReady: (session: Session) => void; hasInvite: boolean }) {
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
  const passId = useId();
  const passHint = useId();
  const confirmId = useId();
  const errorId = useId();

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    if (name.trim().length === 0) return setError("Enter the name your contacts will see.");
    if (passphrase.length < MIN_PASSPHRASE_LENGTH) {
      return setError(`Choose a passphrase of at least ${MIN_PASSPHRASE_LENGTH} characters.`);
    }
    if (confirm !== passphrase) return setError("The two passphrases are not the same. Type it again.");
    setBusy(true);
    try {
      const session = await Session.create({ name: name.trim(), passphrase, relay });
      props.onReady(session);
    } catch (err) {
      setError(`Could not create your profile: ${(err as Error).message}`);
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
          <h1>Welcome to Parley</h1>
        </div>
        <p className="lead">
          Private conversations, end-to-end encrypted. No phone number, no email: just a name your contacts
          see.
        </p>
        {props.hasInvite && (
          <p className="notice">You opened an invite. Create your profile first; then you can accept it.</p>
        )}

        <div className="field">
          <label htmlFor={nameId}>Display name</label>
          <input
            id={nameId}
            name="name"
            autoComplete="nickname"
            maxLength={64}
            value={name}
            onChange={(e) => setName(e.target.value)}
            required
          />
        </div>

        <div className="field">
          <label htmlFor={passId}>Passphrase</label>
          <input
            id={passId}
            name="passphrase"
            type="password"
            autoComplete="new-password"
            aria-describedby={passHint}
            value={passphrase}
            onChange={(e) => setPassphrase(e.target.value)}
            required
          />
          <p id={passHint} className="hint">
            It encrypts everything Parley keeps in this browser. At least {MIN_PASSPHRASE_LENGTH} characters;
            a few unrelated words work well. Nobody can recover it for you.
          </p>
        </div>

        <div className="field">
          <label htmlFor={confirmId}>Confirm passphrase</label>
          <input
            id={confirmId}
            name="confirm-passphrase"
            type="password"
            autoComplete="new-password"
            value={confirm}
            onChange={(e) => setConfirm(e.target.value)}
            required
          />
        </div>

        <p className="hint">Your relay is {relay}. It passes encrypted messages on and cannot read them.</p>

        {error && (
          <p id={errorId} className="error" role="alert">
            {error}
          </p>
        )}

        <button type="submit" className="primary wide" disabled={busy}>
          {busy ? "Creating your profile…" : "Create profile"}
        </button>
      </form>
    </main>
  );
}
