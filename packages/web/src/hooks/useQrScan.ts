import jsQR from "jsqr";
import { type RefObject, useEffect, useRef, useState } from "react";

/** How often a camera frame is looked at for a code. */
const SCAN_EVERY_MS = 200;

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
 * While `active`, plays the camera into `video` and looks for a QR code: the first one read goes to
 * `onText`, and the camera stops. `camera` is "none" where there is no camera or it is refused.
 * Frames stay in this page: nothing is sent anywhere. Used by the safety-number scanner and by
 * linking this browser to a profile (the link's QR code on the other device).
 */
export function useQrScan(
  active: boolean,
  onText: (text: string) => void,
): { video: RefObject<HTMLVideoElement | null>; camera: "starting" | "on" | "none" } {
  const video = useRef<HTMLVideoElement>(null);
  const [camera, setCamera] = useState<"starting" | "on" | "none">("starting");
  const handler = useRef(onText);
  handler.current = onText;

  useEffect(() => {
    if (!active) return;
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
    setCamera("starting");
    (async () => {
      if (!navigator.mediaDevices?.getUserMedia) return setCamera("none");
      try {
        stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
      } catch {
        return setCamera("none");
      }
      if (stopped) return stop();
      setCamera("on");
      const v = video.current;
      if (!v) return stop();
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
        handler.current(text);
      }, SCAN_EVERY_MS);
    })();
    return stop;
  }, [active]);

  return { video, camera };
}
