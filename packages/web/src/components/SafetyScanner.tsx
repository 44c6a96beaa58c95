import jsQR from "jsqr";
import { useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";

/** How often a camera frame is looked at for a code. */
const SCAN_EVERY_MS = 200;

type Outcome = "scanning" | "match" | "mismatch" | "no-camera";

/** The platform's detector where there is one (Chrome on Android, macOS); jsQR everywhere else. */
interface Detector {
  detect(source: HTMLCanvasElement): Promise<{ rawValue: string }[]>;
}
function platformDetector(): Detector | null {
  const Ctor = (globalThis as { BarcodeDetector?: new (o: { formats: string[] }) => Detector })
    .BarcodeDetector;
  try {
    return Ctor ? new Ctor({ formats: ["qr_code"] }) : null;
  } catch {
    return null;
  }
}

async function decode(canvas: HTMLCanvasElement, detector: Detector | null): Promise<string | null> {
  if (detector) {
    const [found] = await detector.detect(canvas).catch(() => []);
    if (found) return found.rawValue;
  }
  const context = canvas.getContext("2d", { willReadFrequently: true });
  if (!context) return null;
  const image = context.getImageData(0, 0, canvas.width, canvas.height);
  return jsQR(image.data, image.width, image.height)?.data ?? null;
}

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
  const video = useRef<HTMLVideoElement>(null);
  const [outcome, setOutcome] = useState<Outcome>("scanning");
  const { digits, onMatch } = props;

  useEffect(() => {
    if (outcome !== "scanning") return;
    let stream: MediaStream | undefined;
    let timer: ReturnType<typeof setInterval> | undefined;
    let stopped = false;
    const canvas = document.createElement("canvas");
    const detector = platformDetector();
    const stop = () => {
      stopped = true;
      if (timer) clearInterval(timer);
      for (const track of stream?.getTracks() ?? []) track.stop();
    };
    (async () => {
      if (!navigator.mediaDevices?.getUserMedia) return setOutcome("no-camera");
      try {
        stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
      } catch {
        return setOutcome("no-camera");
      }
      if (stopped) return stop();
      const v = video.current!;
      v.srcObject = stream;
      await v.play().catch(() => {});
      let busy = false;
      timer = setInterval(async () => {
        if (busy || v.videoWidth === 0) return;
        busy = true;
        canvas.width = v.videoWidth;
        canvas.height = v.videoHeight;
        canvas.getContext("2d", { willReadFrequently: true })?.drawImage(v, 0, 0);
        const text = await decode(canvas, detector);
        busy = false;
        if (stopped || text === null) return;
        stop();
        if (text === digits) {
          setOutcome("match");
          onMatch();
        } else setOutcome("mismatch");
      }, SCAN_EVERY_MS);
    })();
    return stop;
  }, [outcome, digits, onMatch]);

  return (
    <div className="safety-scanner">
      {outcome === "scanning" && (
        <>
          <video ref={video} className="scanner-video" muted playsInline aria-label={t("safety.camera")} />
          <p className="muted small">{t("safety.point", { name: props.name })}</p>
        </>
      )}
      <p
        role="status"
        className={outcome === "match" ? "verified-line ok" : outcome === "mismatch" ? "error" : ""}
      >
        {outcome === "match" && t("safety.match", { name: props.name })}
        {outcome === "mismatch" && t("safety.mismatch", { name: props.name })}
        {outcome === "no-camera" && t("safety.noCamera")}
      </p>
      <div className="actions">
        {outcome === "mismatch" && (
          <button type="button" onClick={() => setOutcome("scanning")}>
            {t("safety.again")}
          </button>
        )}
        <button type="button" onClick={props.onClose}>
          {outcome === "scanning" ? t("safety.stop") : t("common.done")}
        </button>
      </div>
    </div>
  );
}
