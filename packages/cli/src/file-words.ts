/**
 * The CLI's words for files: what a type is called, what a warning says, how a file message reads.
 * Loud on purpose: a file that lies about its type, or one that runs a program when opened, is the
 * attack most people actually meet.
 */
import type { FileView, FileWarning, RemovedMetadata } from "@parley/core";
import { megabytes } from "./words.js";

const TYPE_NAMES: Record<string, string> = {
  apk: "an Android app (APK)",
  aab: "an Android app bundle (AAB)",
  dex: "Android app code (DEX)",
  exe: "a Windows program (EXE)",
  dll: "a Windows library (DLL)",
  elf: "a Linux program (ELF)",
  macho: "a macOS program (Mach-O)",
  msi: "a Windows installer (MSI)",
  deb: "a Linux package (DEB)",
  rpm: "a Linux package (RPM)",
  dmg: "a macOS disk image (DMG)",
  lnk: "a Windows shortcut (LNK)",
  sh: "a script",
  html: "a web page (HTML)",
  svg: "an SVG image (it can run scripts)",
  pdf: "a PDF document",
  jpg: "a JPEG image",
  png: "a PNG image",
  gif: "a GIF image",
  webp: "a WebP image",
  zip: "a ZIP archive",
  docx: "a Word document",
  xlsx: "an Excel workbook",
  pptx: "a PowerPoint presentation",
  docm: "a Word document with macros",
  xlsm: "an Excel workbook with macros",
  pptm: "a PowerPoint presentation with macros",
  mp4: "an MP4 video",
  mp3: "an MP3 audio file",
  txt: "a text file",
};

export const typeName = (ext: string): string => TYPE_NAMES[ext] ?? `a ${ext.toUpperCase()} file`;

const RISK_WORDS: Record<string, string> = {
  executable: "runs as a program when opened",
  installer: "installs software when opened",
  "android-app": "is an Android app: installing it gives it access to your phone",
  script: "is a script: opening it can run commands on your computer",
  shortcut: "is a shortcut: opening it runs whatever it points to",
  "macro-document": "is an office document with macros: enabling them can run code",
  "active-content": "can run scripts when opened in a browser",
};

export function warningText(name: string, w: FileWarning): string {
  if (w.code === "mismatch") {
    if (w.actual === null)
      return `${name} is not what its name says: its content is not ${typeName(w.claimed)}`;
    return `${name} is really ${typeName(w.actual)}${w.claimed ? `, not ${typeName(w.claimed)}` : ""}`;
  }
  return `${name} ${RISK_WORDS[w.risk] ?? "may be dangerous to open"} (${w.ext.toUpperCase()})`;
}

const REMOVED_WORDS: Record<RemovedMetadata, string> = {
  location: "location",
  camera: "camera model",
  timestamps: "timestamps",
  owner: "owner name",
  exif: "other EXIF data",
  xmp: "XMP metadata",
  iptc: "IPTC metadata",
  comment: "comments",
  text: "text notes",
};

export const removedText = (removed: readonly RemovedMetadata[]): string =>
  removed.map((r) => REMOVED_WORDS[r]).join(", ");

/** One line: "photo.jpg — 3.4 MB, a JPEG image" (+ "(not checked yet)" before download). */
export function fileSummary(f: FileView): string {
  const type = f.detected ? typeName(f.detected.ext) : "unknown type";
  const checked = f.checked ? "" : " (as its sender's device detected it)";
  return `${f.name} — ${megabytes(f.size)}, ${type}${checked}${f.deleted ? " [deleted from the relay by its sender]" : ""}`;
}

/** A file for --json: the view plus its warnings in words. */
export const fileJson = (f: FileView) => ({
  ...f,
  thumbnail: f.thumbnail
    ? { mime: f.thumbnail.mime, bytes: Math.floor((f.thumbnail.data.length * 3) / 4) }
    : null,
  warningText: f.warnings.map((w) => warningText(f.name, w)),
  removedText: removedText(f.removed),
});
