import { useCallback, useState } from "react";
import { useTranslation } from "react-i18next";
import { useQrScan } from "../hooks/useQrScan";

type Outcome = "scanning" | "match" | "mismatch" | "no-camera";

/**
 * Scans the contact's safety-number QR code with the camera and says whether it is ours (the same
 * 60 digits). Where there is no camera, or it is refused, it says to compare the digits instead.
 * Frames stay in this page: nothing is sent anywhere.
 */
export function SafetyScanner(props: {
  digits: string;
  name: string;
  onMatch: () => void;
  onClose: () => void;
}) {
  const { t } = useTranslation();
  const [outcome, setOutcome] = useState<Outcome>("scanning");
  const { digits, onMatch } = props;
  const onText = useCallback(
    (text: string) => {
      if (text === digits) {
        setOutcome("match");
        onMatch();
      } else setOutcome("mismatch");
    },
    [digits, onMatch],
  );
  const { video, camera } = useQrScan(outcome === "scanning", onText);
  const shown: Outcome = outcome === "scanning" && camera === "none" ? "no-camera" : outcome;

  return (
    <div className="safety-scanner">
      {shown === "scanning" && (
        <>
          <video ref={video} className="scanner-video" muted playsInline aria-label={t("safety.camera")} />
          <p className="muted small">{t("safety.point", { name: props.name })}</p>
        </>
      )}
      <p
        role="status"
        className={shown === "match" ? "verified-line ok" : shown === "mismatch" ? "error" : ""}
      >
        {outcome === "match" && t("safety.match", { name: props.name })}
        {outcome === "mismatch" && t("safety.mismatch", { name: props.name })}
        {shown === "no-camera" && t("safety.noCamera")}
      </p>
      <div className="actions">
        {outcome === "mismatch" && (
          <button type="button" onClick={() => setOutcome("scanning")}>
            {t("safety.again")}
          </button>
        )}
        <button type="button" onClick={props.onClose}>
          {shown === "scanning" ? t("safety.stop") : t("common.done")}
        </button>
      </div>
    </div>
  );
}
