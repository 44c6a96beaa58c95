import type { ParleyClient } from "@parley/core";
import { useEffect, useId, useRef, useState } from "react";
import { Dialog } from "./Dialog";
import { QrCode } from "./QrCode";

export function InviteDialog(props: { client: ParleyClient; onClose: () => void }) {
  const [link, setLink] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  const linkId = useId();
  const input = useRef<HTMLInputElement>(null);
  const started = useRef(false);

  useEffect(() => {
    // One invite per opening of the dialog (StrictMode runs effects twice in development).
    if (started.current) return;
    started.current = true;
    props.client
      .createInvite()
      .then((r) => setLink(r.link))
      .catch((e: Error) => setError(`Could not create an invite: ${e.message}`));
  }, [props.client]);

  async function copy() {
    if (!link) return;
    try {
      await navigator.clipboard.writeText(link);
    } catch {
      input.current?.select();
      document.execCommand("copy");
    }
    setCopied(true);
  }

  return (
    <Dialog title="Invite someone" onClose={props.onClose}>
      <p>
        Send this link to one person, privately, or let them scan the code. It works once and expires in 7
        days.
      </p>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {!link && !error && (
        <p className="muted" aria-busy="true">
          Creating a one-time invite…
        </p>
      )}
      {link && (
        <>
          <div className="qr-frame">
            <QrCode value={link} label="Invite QR code" size={220} />
          </div>
          <div className="field">
            <label htmlFor={linkId}>Invite link</label>
            <div className="copy-row">
              <input
                ref={input}
                id={linkId}
                readOnly
                value={link}
                onFocus={(e) => e.currentTarget.select()}
                className="mono"
              />
              <button type="button" onClick={copy}>
                {copied ? "Copied" : "Copy link"}
              </button>
            </div>
          </div>
          <p className="hint">
            They appear in your conversations as soon as they accept it, even if you close this window.
          </p>
        </>
      )}
      <div className="actions">
        <button type="button" className="primary" onClick={props.onClose}>
          Done
        </button>
      </div>
    </Dialog>
  );
}
