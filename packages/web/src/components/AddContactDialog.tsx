import { type FormEvent, useId, useState } from "react";
import { Dialog, FormFooter } from "./Dialog";

export function AddContactDialog(props: { onAccept: (link: string) => Promise<void>; onClose: () => void }) {
  const [link, setLink] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const linkId = useId();
  const hintId = useId();

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (link.trim().length === 0) return setError("Paste the invite link you were sent.");
    setBusy(true);
    setError(null);
    try {
      await props.onAccept(link.trim());
      props.onClose();
    } catch (err) {
      setError((err as Error).message);
      setBusy(false);
    }
  }

  return (
    <Dialog title="Add contact" onClose={props.onClose}>
      <form onSubmit={submit} noValidate>
        <div className="field">
          <label htmlFor={linkId}>Invite link</label>
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
            Paste the link someone sent you. It starts with the address of their relay and contains
            “#/invite/”.
          </p>
        </div>
        <FormFooter
          error={error}
          busy={busy}
          submitLabel="Add contact"
          busyLabel="Connecting…"
          onCancel={props.onClose}
        />
      </form>
    </Dialog>
  );
}
