import { useState } from "react";
import { Dialog } from "./Dialog";

export function WipeDialog(props: { onWipe: () => void; onClose: () => void }) {
  return (
    <Dialog title="Wipe this device?" onClose={props.onClose}>
      <p>
        This deletes your profile, your contacts and every message from this browser. It cannot be undone, and
        your contacts will no longer reach you here.
      </p>
      <div className="actions">
        <button type="button" onClick={props.onClose}>
          Cancel
        </button>
        <button type="button" className="danger" onClick={props.onWipe}>
          Wipe everything
        </button>
      </div>
    </Dialog>
  );
}

/** An invite link opened in the address bar: accept it, or not now. */
export function AcceptInviteDialog(props: { onAccept: () => Promise<void>; onDismiss: () => void }) {
  const [accepting, setAccepting] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function accept() {
    setAccepting(true);
    setError(null);
    try {
      await props.onAccept();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setAccepting(false);
    }
  }

  return (
    <Dialog title="Accept this invite?" onClose={props.onDismiss}>
      <p>
        You opened an invite link. Accepting it adds the person who sent it to your contacts and starts an
        encrypted conversation. An invite works only once.
      </p>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <div className="actions">
        <button type="button" onClick={props.onDismiss}>
          Not now
        </button>
        <button type="button" className="primary" onClick={accept} disabled={accepting}>
          {accepting ? "Connecting…" : "Accept invite"}
        </button>
      </div>
    </Dialog>
  );
}
