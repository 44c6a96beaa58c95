import type { ParleyClient } from "@parley/core";
import { useCallback, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { groupDigits } from "../format";
import { friendlyError } from "../groups";
import { Dialog } from "./Dialog";
import { QrCode } from "./QrCode";
import { SafetyScanner } from "./SafetyScanner";

export function SafetyNumberDialog(props: {
  client: ParleyClient;
  contactId: string;
  name: string;
  onVerified: () => void;
  onClose: () => void;
}) {
  const { t } = useTranslation();
  const [digits, setDigits] = useState<string | null>(null);
  const [verified, setVerified] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [scanning, setScanning] = useState(false);
  const { client, contactId, onVerified } = props;

  useEffect(() => {
    client
      .safetyNumber(contactId)
      .then((s) => {
        setDigits(s.safetyNumber);
        setVerified(s.verified);
      })
      .catch((e: unknown) => setError(friendlyError(e)));
  }, [client, contactId]);

  const markVerified = useCallback(async () => {
    try {
      await client.verifyContact(contactId);
      setVerified(true);
      onVerified();
    } catch (e) {
      setError(friendlyError(e));
    }
  }, [client, contactId, onVerified]);
  const scannedMatch = useCallback(() => void markVerified(), [markVerified]);

  const groups = digits ? groupDigits(digits).split(" ") : [];
  return (
    <Dialog title={t("safety.title", { name: props.name })} onClose={props.onClose} wide>
      <p>{t("safety.explain", { name: props.name })}</p>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {digits && (
        <div className="safety">
          <figure
            className="safety-digits mono"
            aria-label={t("safety.digits", { digits: groupDigits(digits) })}
          >
            {groups.map((g, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: the groups are a fixed sequence
              <span key={i}>{g}</span>
            ))}
          </figure>
          <div className="qr-frame">
            <QrCode value={digits} label={t("safety.qr", { name: props.name })} size={180} />
          </div>
        </div>
      )}
      {digits && scanning && (
        <SafetyScanner
          digits={digits}
          name={props.name}
          onMatch={scannedMatch}
          onClose={() => setScanning(false)}
        />
      )}
      <p className={verified ? "verified-line ok" : "verified-line"} role="status">
        {verified
          ? t("safety.verified", { name: props.name })
          : t("safety.notVerified", { name: props.name })}
      </p>
      <div className="actions">
        <button type="button" onClick={props.onClose}>
          {t("common.close")}
        </button>
        {digits && !scanning && (
          <button type="button" onClick={() => setScanning(true)}>
            {t("safety.scan")}
          </button>
        )}
        {!verified && (
          <button type="button" className="primary" onClick={markVerified} disabled={!digits}>
            {t("safety.markVerified")}
          </button>
        )}
      </div>
    </Dialog>
  );
}
