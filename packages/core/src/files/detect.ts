/**
 * Files that lie: the real type of a file from its content (magic bytes, the `file-type` library
 * plus a few checks of our own), compared with its name and the type its sender declared; and the
 * kinds of file that can hurt whoever opens them, flagged even when honestly named. Codes and
 * extensions only: the CLI and the web app word them ("invoice.pdf is really an Android app").
 */
import { fileTypeFromBuffer } from "file-type/core";

/** How much of a file's start detection looks at. */
export const DETECT_BYTES = 64 * 1024;

export interface DetectedType {
  /** The usual extension of the detected type, lower-case: "pdf", "apk", "elf"… */
  ext: string;
  mime: string;
}

/** What opening a file can do. */
export const FILE_RISKS = [
  "executable", // runs as a program: EXE, ELF, Mach-O, DLL, COM…
  "installer", // installs software: MSI, DEB, RPM, DMG, PKG
  "android-app", // APK, AAB, DEX
  "script", // a program in text: .bat, .ps1, .vbs, .js, .sh, .hta…
  "shortcut", // runs something else: .lnk, .url, .desktop, .scf
  "macro-document", // an office document that carries macros
  "active-content", // HTML, SVG, MHT: runs script when opened in a browser
] as const;
export type FileRisk = (typeof FILE_RISKS)[number];

/**
 * Whether `risk` is one this version knows (and so has words for): a warning kept in a store by a
 * newer version may name another.
 */
export const isFileRisk = (risk: string): risk is FileRisk =>
  (FILE_RISKS as readonly string[]).includes(risk);

export type FileWarning =
  /** The content is not what the name (or declared type) says; `actual` null: no known type. */
  | { code: "mismatch"; claimed: string; actual: string | null }
  | { code: "risky"; risk: FileRisk; ext: string };

export interface FileAssessment {
  detected: DetectedType | null;
  warnings: FileWarning[];
}

const RISK_BY_EXT: Record<string, FileRisk> = {};
const add = (risk: FileRisk, exts: string) => {
  for (const ext of exts.split(" ")) RISK_BY_EXT[ext] = risk;
};
add("executable", "exe com scr pif dll cpl sys elf macho so dylib app jar msix appx appxbundle gadget");
add("installer", "msi msp deb rpm dmg pkg mpkg snap flatpak appimage");
add("android-app", "apk aab xapk apks dex");
add(
  "script",
  "bat cmd ps1 psm1 psd1 vbs vbe js jse mjs cjs wsf wsh wsc hta sh bash zsh ksh csh command py pyw pl rb php reg inf scpt applescript jnlp",
);
add("shortcut", "lnk url desktop webloc scf library-ms settingcontent-ms");
add("macro-document", "docm dotm xlsm xltm xlam xlsb pptm potm ppam ppsm sldm");
add("active-content", "html htm xhtml shtml svg svgz mht mhtml xht");

/** Extensions that name the same kind of content. */
const SAME: string[][] = [
  ["jpg", "jpeg", "jpe", "jfif"],
  ["tif", "tiff"],
  ["htm", "html", "xhtml"],
  ["mp4", "m4v", "m4a", "mov", "3gp"],
  ["heic", "heif"],
  ["mkv", "webm"],
  ["ogg", "oga", "ogv", "opus"],
  ["exe", "dll", "com", "scr", "sys", "cpl"],
  ["gz", "tgz"],
  ["mpg", "mpeg"],
];
/** Formats that are ZIP archives inside: a plain "zip" detection does not contradict them. */
const ZIP_BASED = new Set(
  "zip docx xlsx pptx docm xlsm pptm dotx xltx potx odt ods odp odg epub jar apk aab xapk apks kmz 3mf vsdx xps oxps ipa appx msix nupkg whl".split(
    " ",
  ),
);
/** Formats that are OLE compound files inside (file-type says "cfb"). */
const CFB_BASED = new Set("doc xls ppt msi msg vsd pub".split(" "));
/** Names whose content `file-type` recognises: if it recognises nothing, the name lies. */
const DETECTABLE = new Set(
  "pdf jpg jpeg png gif webp bmp tif tiff heic heif avif zip gz 7z rar docx xlsx pptx odt ods odp epub mp3 mp4 m4a mov mkv webm ogg flac wav exe dll elf apk msi deb rpm".split(
    " ",
  ),
);

const sameKind = (a: string, b: string) => a === b || SAME.some((g) => g.includes(a) && g.includes(b));

/** The extension of a file name, lower-case, without the dot; "" if none. */
export function extensionOf(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? "";
  const dot = base.lastIndexOf(".");
  return dot > 0 ? base.slice(dot + 1).toLowerCase() : "";
}

const ascii = (bytes: Uint8Array, start: number, length: number) =>
  String.fromCharCode(...bytes.subarray(start, start + length));

/** The real type of the content that starts with `head` (DETECT_BYTES is plenty), or null. */
export async function detectType(head: Uint8Array): Promise<DetectedType | null> {
  // Formats file-type leaves out, checked first.
  if (ascii(head, 0, 4) === "dex\n") return { ext: "dex", mime: "application/vnd.android.dex" };
  if (
    head[0] === 0x4c &&
    head[1] === 0 &&
    head[2] === 0 &&
    head[3] === 0 &&
    head[4] === 0x01 &&
    head[5] === 0x14
  ) {
    return { ext: "lnk", mime: "application/x-ms-shortcut" };
  }
  const found = await fileTypeFromBuffer(head).catch(() => undefined);
  if (found) {
    // A ZIP whose entries show an Android app or an office document with macros.
    if (found.ext === "zip" || ZIP_BASED.has(found.ext)) {
      const text = ascii(head, 0, Math.min(head.length, DETECT_BYTES));
      if (text.includes("AndroidManifest.xml") || text.includes("classes.dex")) {
        return { ext: "apk", mime: "application/vnd.android.package-archive" };
      }
      if (text.includes("vbaProject.bin")) {
        const ext = found.ext === "xlsx" ? "xlsm" : found.ext === "pptx" ? "pptm" : "docm";
        return { ext, mime: "application/vnd.ms-office.macroEnabled" };
      }
    }
    return { ext: found.ext, mime: found.mime };
  }
  if (head[0] === 0x23 && head[1] === 0x21) return { ext: "sh", mime: "text/x-script" }; // #!
  const start = ascii(head, 0, 512).trimStart().toLowerCase();
  if (start.startsWith("<!doctype html") || start.startsWith("<html"))
    return { ext: "html", mime: "text/html" };
  if (start.startsWith("<svg") || (start.startsWith("<?xml") && start.includes("<svg"))) {
    return { ext: "svg", mime: "image/svg+xml" };
  }
  return null;
}

/** The extension a MIME type usually has, for comparing a declared type; null if not known here. */
function extOfMime(mime: string): string | null {
  const m = mime.toLowerCase().split(";")[0]!.trim();
  const known: Record<string, string> = {
    "application/pdf": "pdf",
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    "application/zip": "zip",
    "application/vnd.android.package-archive": "apk",
    "application/x-msdownload": "exe",
    "application/x-elf": "elf",
    "text/html": "html",
    "image/svg+xml": "svg",
  };
  return known[m] ?? null;
}

const contradicts = (claimed: string, actual: string): boolean => {
  if (sameKind(claimed, actual)) return false;
  if (actual === "zip" && ZIP_BASED.has(claimed)) return false;
  if (actual === "cfb" && CFB_BASED.has(claimed)) return false;
  // file-type reports some office files by their container.
  if (["docx", "xlsx", "pptx"].includes(actual) && ZIP_BASED.has(claimed) && !RISK_BY_EXT[claimed])
    return false;
  return true;
};

/**
 * Compares what a file is (`detected`) with what its name and declared type say, and flags what
 * is dangerous to open: by the real type, and by the name (Windows and most desktops choose the
 * program by the name: a `.js` runs, whatever is inside).
 */
export function assessFile(
  name: string,
  declaredMime: string | undefined,
  detected: DetectedType | null,
): FileAssessment {
  const warnings: FileWarning[] = [];
  const ext = extensionOf(name);
  if (detected) {
    if (ext === "" || contradicts(ext, detected.ext)) {
      if (ext !== "" || RISK_BY_EXT[detected.ext]) {
        warnings.push({ code: "mismatch", claimed: ext, actual: detected.ext });
      }
    } else if (declaredMime) {
      const declared = extOfMime(declaredMime);
      if (declared && contradicts(declared, detected.ext)) {
        warnings.push({ code: "mismatch", claimed: declared, actual: detected.ext });
      }
    }
  } else if (DETECTABLE.has(ext)) {
    warnings.push({ code: "mismatch", claimed: ext, actual: null });
  }
  const risks = new Map<FileRisk, string>();
  if (detected && RISK_BY_EXT[detected.ext]) risks.set(RISK_BY_EXT[detected.ext]!, detected.ext);
  if (RISK_BY_EXT[ext] && !risks.has(RISK_BY_EXT[ext]!)) risks.set(RISK_BY_EXT[ext]!, ext);
  for (const [risk, e] of risks) warnings.push({ code: "risky", risk, ext: e });
  return { detected, warnings };
}

/** Images whose metadata the sender strips (strip-metadata.ts) and that may be shown inline. */
export const IMAGE_EXTS = new Set(["jpg", "png", "webp", "gif"]);
