/**
 * Files in the browser: a File as the engine's FileSource (read slice by slice), a download kept in
 * memory until it is verified, thumbnails for images, and the words for types and warnings. The web
 * app never renders a received file itself except images it decoded as images: everything else is
 * downloaded as an attachment (application/octet-stream, a safe name), HTML and SVG included.
 */
import {
  concatBytes,
  type DownloadTarget,
  type FileAssessment,
  type FileSource,
  type FileWarning,
  isFileRisk,
  type RemovedMetadata,
} from "@parley/core";
import { joinList, t } from "./i18n";

export const fileSource = (file: Blob): FileSource => ({
  size: file.size,
  read: async (offset, length) => new Uint8Array(await file.slice(offset, offset + length).arrayBuffer()),
});

/** A download held in memory: the plaintext as it is decrypted, then, checked, as a Blob. */
export class MemoryDownload implements DownloadTarget {
  private plain: Uint8Array[] = [];
  private held = 0;
  result: { blob: Blob; assessment: FileAssessment } | undefined;

  async heldPlain() {
    return this.held;
  }
  async readPlain(offset: number, length: number) {
    return concatBytes(...this.plain).slice(offset, offset + length);
  }
  async keepPlain(length: number) {
    if (length < this.held) this.plain = length === 0 ? [] : [concatBytes(...this.plain).slice(0, length)];
    this.held = Math.min(length, this.held);
  }
  async writePlain(bytes: Uint8Array) {
    this.plain.push(bytes.slice());
    this.held += bytes.length;
  }
  async finish(assessment: FileAssessment) {
    this.result = {
      blob: new Blob(this.plain as BlobPart[], { type: "application/octet-stream" }),
      assessment,
    };
    this.plain = [];
    this.held = 0;
  }
  async pause() {}
  async discardPlain() {
    this.plain = [];
    this.held = 0;
  }
}

/** Types shown inline once fetched and checked: decoded by the browser as pictures, never SVG. */
export const INLINE_IMAGE = new Set(["jpg", "png", "gif", "webp"]);
const THUMBNAIL_TYPES = new Set(["image/jpeg", "image/png", "image/webp"]);

/** A small JPEG of an image (at most 320 px, ≤ 48 KiB), or undefined. Drawn from pixels: no metadata. */
export async function thumbnailOf(file: File): Promise<{ mime: "image/jpeg"; data: Uint8Array } | undefined> {
  if (!THUMBNAIL_TYPES.has(file.type)) return undefined;
  try {
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, 320 / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement("canvas");
    canvas.width = Math.max(1, Math.round(bitmap.width * scale));
    canvas.height = Math.max(1, Math.round(bitmap.height * scale));
    canvas.getContext("2d")?.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    bitmap.close();
    for (const quality of [0.7, 0.5, 0.3]) {
      const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, "image/jpeg", quality));
      if (blob && blob.size <= 48 * 1024)
        return { mime: "image/jpeg", data: new Uint8Array(await blob.arrayBuffer()) };
    }
  } catch {
    // Not decodable here: no thumbnail.
  }
  return undefined;
}

/** base64url (as messages carry it) to a data: URL for an <img>. */
export function dataUrl(mime: string, b64url: string): string {
  const b64 = b64url.replace(/-/g, "+").replace(/_/g, "/");
  return `data:${mime};base64,${b64}${"=".repeat((4 - (b64.length % 4)) % 4)}`;
}

/** Saves `blob` as a download named `name` (made safe), never opened in the page. */
export function saveAs(blob: Blob, name: string): void {
  const url = URL.createObjectURL(new Blob([blob], { type: "application/octet-stream" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name.replace(/[\\/:*?"<>|\p{Cc}\p{Cf}]/gu, "_").replace(/^\.+/, "_") || "file";
  a.rel = "noopener";
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** File types with a name of their own in the catalogue (`file.type.*`); others are "a XYZ file". */
const NAMED_TYPES = new Set([
  "apk",
  "dex",
  "exe",
  "elf",
  "macho",
  "msi",
  "lnk",
  "html",
  "svg",
  "pdf",
  "jpg",
  "png",
  "gif",
  "webp",
  "zip",
  "docm",
  "xlsm",
] as const);
type NamedType = typeof NAMED_TYPES extends Set<infer T> ? T : never;
const isNamedType = (ext: string): ext is NamedType => NAMED_TYPES.has(ext as NamedType);

export const typeName = (ext: string): string =>
  isNamedType(ext) ? t(`file.type.${ext}`) : t("file.type.other", { ext: ext.toUpperCase() });

export function warningText(name: string, w: FileWarning): string {
  if (w.code === "mismatch") {
    if (w.actual === null) return t("file.notWhatItSays", { name });
    const actual = typeName(w.actual);
    return w.claimed
      ? t("file.reallyNot", { name, actual, claimed: typeName(w.claimed) })
      : t("file.really", { name, actual });
  }
  return isFileRisk(w.risk) ? t(`file.risk.${w.risk}`, { name }) : t("file.risk.other", { name });
}

/** What was removed from an image before it left, in words: "location, camera model". */
export const removedText = (removed: readonly RemovedMetadata[]): string =>
  joinList(removed.map((r) => t(`file.metadata.${r}`)));

export function formatSize(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1_000_000) return `${(bytes / 1000).toFixed(1)} kB`;
  if (bytes < 1_000_000_000) return `${(bytes / 1_000_000).toFixed(1)} MB`;
  return `${(bytes / 1_000_000_000).toFixed(2)} GB`;
}
