import type { ParleyClient } from "@parley/core";
import { useEffect, useId, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { friendlyError } from "../groups";
import { Dialog } from "./Dialog";
import { QrCode } from "./QrCode";

export function InviteDialog(props: { client: ParleyClient; onClose: () => void }) {
  const { t } = useTranslation();
  const [link, setLink] = useState<string | null>(null);
  /** Why no invite could be made (put in words when shown, in the language of the moment). */
  const [error, setError] = useState<unknown>(null);
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
      .catch((e: unknown) => setError(e));
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
    <Dialog title={t("invite.title")} onClose={props.onClose}>
      <p>{t("invite.text")}</p>
      {error !== null && (
        <p className="error" role="alert">
          {t("invite.failed", { cause: friendlyError(error) })}
        </p>
      )}
      {!link && error === null && (
        <p className="muted" aria-busy="true">
          {t("invite.creating")}
        </p>
      )}
      {link && (
        <>
          <div className="qr-frame">
            <QrCode value={link} label={t("invite.qr")} size={220} />
          </div>
          <div className="field">
            <label htmlFor={linkId}>{t("common.inviteLink")}</label>
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
                {copied ? t("invite.copied") : t("invite.copy")}
              </button>
            </div>
          </div>
          <p className="hint">{t("invite.hint")}</p>
        </>
      )}
      <div className="actions">
        <button type="button" className="primary" onClick={props.onClose}>
          {t("common.done")}
        </button>
      </div>
    </Dialog>
  );
}
