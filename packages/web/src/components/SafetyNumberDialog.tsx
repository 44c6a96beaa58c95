import type { ParleyClient } from "@parley/core";
import { useCallback, useEffect, useState } from "react";
import { groupDigits } from "../format";
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
      .catch((e: Error) => setError(e.message));
  }, [client, contactId]);

  const markVerified = useCallback(async () => {
    try {
      await client.verifyContact(contactId);
      setVerified(true);
      onVerified();
    } catch (e) {
      setError((e as Error).message);
    }
  }, [client, contactId, onVerified]);
  const scannedMatch = useCallback(() => void markVerified(), [markVerified]);

  const groups = digits ? groupDigits(digits).split(" ") : [];
  return (
    <Dialog title={`Safety number with ${props.name}`} onClose={props.onClose} wide>
      <p>
        Compare these numbers with {props.name} in person or on a call you trust, or scan each other’s code.
        If they match, nobody is in the middle of your conversation.
      </p>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {digits && (
        <div className="safety">
          <figure className="safety-digits mono" aria-label={`Safety number: ${groupDigits(digits)}`}>
            {groups.map((g, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: the groups are a fixed sequence
              <span key={i}>{g}</span>
            ))}
          </figure>
          <div className="qr-frame">
            <QrCode value={digits} label={`QR code of the safety number with ${props.name}`} size={180} />
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
        {verified ? `You have verified ${props.name}.` : `${props.name} is not verified yet.`}
      </p>
      <div className="actions">
        <button type="button" onClick={props.onClose}>
          Close
        </button>
        {digits && !scanning && (
          <button type="button" onClick={() => setScanning(true)}>
            Scan their code
          </button>
        )}
        {!verified && (
          <button type="button" className="primary" onClick={markVerified} disabled={!digits}>
            Mark as verified
          </button>
        )}
      </div>
    </Dialog>
  );
}
