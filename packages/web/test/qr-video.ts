/**
 * A fake camera for the browser suites: Chromium plays a Y4M file as its camera
 * (--use-fake-device-for-media-stream --use-file-for-fake-video-capture=FILE) and reads the file
 * again each time a page starts capturing, so a test rewrites it to show another code.
 */
import { writeFileSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";
import * as QRCode from "qrcode";
import { CHROMIUM, CHROMIUM_ARGS } from "./helpers.js";

const WIDTH = 640;
const HEIGHT = 480;

/** One grey-scale Y4M picture (4:2:0) of `text` as a QR code on white, repeated for a few frames. */
export function writeQrVideo(path: string, text: string): void {
  const qr = QRCode.create(text, { errorCorrectionLevel: "M" });
  const n = qr.modules.size;
  const scale = Math.floor(360 / (n + 8));
  const left = Math.floor((WIDTH - n * scale) / 2);
  const top = Math.floor((HEIGHT - n * scale) / 2);
  const y = Buffer.alloc(WIDTH * HEIGHT, 235);
  for (let row = 0; row < n; row++)
    for (let col = 0; col < n; col++)
      if (qr.modules.get(row, col))
        for (let dy = 0; dy < scale; dy++)
          y.fill(
            16,
            (top + row * scale + dy) * WIDTH + left + col * scale,
            (top + row * scale + dy) * WIDTH + left + (col + 1) * scale,
          );
  const chroma = Buffer.alloc((WIDTH / 2) * (HEIGHT / 2) * 2, 128);
  const frame = Buffer.concat([Buffer.from("FRAME\n"), y, chroma]);
  const header = Buffer.from(`YUV4MPEG2 W${WIDTH} H${HEIGHT} F10:1 Ip A1:1 C420jpeg\n`);
  writeFileSync(path, Buffer.concat([header, frame, frame, frame]));
}

/** Chromium whose camera plays `video` (showing "nothing yet" until a test writes a code there). */
export function launchWithCamera(video: string): Promise<Browser> {
  writeQrVideo(video, "nothing yet");
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      ...CHROMIUM_ARGS,
      "--use-fake-ui-for-media-stream",
      "--use-fake-device-for-media-stream",
      `--use-file-for-fake-video-capture=${video}`,
    ],
  });
}
