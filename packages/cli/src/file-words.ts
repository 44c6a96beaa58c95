/**
 * The CLI's words for files: what a type is called, what a warning says, how a file message reads,
 * in the catalogue's words (`cli.files.*`). Loud on purpose: a file that lies about its type, or one
 * that runs a program when opened, is the attack most people actually meet.
 */
import { type FileView, type FileWarning, isFileRisk, type RemovedMetadata } from "@parley/core";
import { joinList, tr } from "./i18n.js";
import { megabytes } from "./words.js";

/** Types the catalogue names; any other is "a XYZ file". */
const NAMED_TYPES = new Set([
  "apk",
  "aab",
  "dex",
  "exe",
  "dll",
  "elf",
  "macho",
  "msi",
  "deb",
  "rpm",
  "dmg",
  "lnk",
  "sh",
  "html",
  "svg",
  "pdf",
  "jpg",
  "png",
  "gif",
  "webp",
  "zip",
  "docx",
  "xlsx",
  "pptx",
  "docm",
  "xlsm",
  "pptm",
  "mp4",
  "mp3",
  "txt",
] as const);
type NamedType = typeof NAMED_TYPES extends Set<infer T> ? T : never;

export const typeName = (ext: string): string =>
  NAMED_TYPES.has(ext as NamedType)
    ? tr(`cli.files.type.${ext as NamedType}`)
    : tr("cli.files.type.other", { ext: ext.toUpperCase() });

export function warningText(name: string, w: FileWarning): string {
  if (w.code === "mismatch") {
    if (w.actual === null) return tr("cli.files.notWhatItSays", { name, claimed: typeName(w.claimed) });
    return w.claimed
      ? tr("cli.files.reallyNot", { name, actual: typeName(w.actual), claimed: typeName(w.claimed) })
      : tr("cli.files.really", { name, actual: typeName(w.actual) });
  }
  const ext = w.ext.toUpperCase();
  return isFileRisk(w.risk)
    ? tr(`cli.files.risk.${w.risk}`, { name, ext })
    : tr("cli.files.risk.other", { name, ext });
}

/** "location, camera model" as the current language lists things. */
export const removedText = (removed: readonly RemovedMetadata[]): string =>
  joinList(removed.map((r) => tr(`file.metadata.${r}`)));

/** One line: "photo.jpg — 3.4 MB, a JPEG image" (+ "(as its sender's device detected it)" before download). */
export function fileSummary(f: FileView): string {
  const type = f.detected ? typeName(f.detected.ext) : tr("cli.files.unknownType");
  return (
    tr("cli.files.summary", { name: f.name, size: megabytes(f.size), type }) +
    (f.checked ? "" : tr("cli.files.unchecked")) +
    (f.deleted ? tr("cli.files.deletedBySender") : "")
  );
}

/** A file for --json: the view plus its warnings in words (--json runs in English: i18n.ts). */
export const fileJson = (f: FileView) => ({
  ...f,
  thumbnail: f.thumbnail
    ? { mime: f.thumbnail.mime, bytes: Math.floor((f.thumbnail.data.length * 3) / 4) }
    : null,
  warningText: f.warnings.map((w) => warningText(f.name, w)),
  removedText: removedText(f.removed),
});
