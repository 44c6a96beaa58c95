/**
 * A profile photo chosen in the browser, made small before it goes anywhere (issue 14): drawn on a
 * canvas at most PHOTO_SIDE pixels a side and encoded as JPEG. Drawing and encoding anew keeps the
 * pixels only: no EXIF, location or camera survive it (the engine strips metadata again anyway).
 */
import { MAX_PROFILE_PHOTO_BYTES, ParleyError } from "@parley/core";

const PHOTO_SIDE = 256;

export async function smallPhoto(file: Blob): Promise<Uint8Array> {
  // createImageBitmap applies the EXIF orientation, so the photo stands as it was taken.
  const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  const scale = Math.min(1, PHOTO_SIDE / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(bitmap.width * scale));
  canvas.height = Math.max(1, Math.round(bitmap.height * scale));
  canvas.getContext("2d")?.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  // Lower quality until it fits: a 256-pixel JPEG is far below the limit at 0.85 in practice.
  for (const quality of [0.85, 0.7, 0.5, 0.3]) {
    const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, "image/jpeg", quality));
    if (!blob) break;
    const bytes = new Uint8Array(await blob.arrayBuffer());
    if (bytes.length <= MAX_PROFILE_PHOTO_BYTES) return bytes;
  }
  throw new ParleyError("bad_photo", { reason: "too_large" });
}
