/**
 * `parley send-file`, `parley files`, `parley get-file`, `parley delete-file`: files and photos, encrypted on this device,
 * uploaded once, type-checked and stripped of location (docs/03-content.md, `file`).
 */
import { existsSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { type FileAssessment, type ParleyClient, safeFileName } from "@parley/core";
import { FileDownloadTarget, fileSource, keepMemoryFlat, nodeAesGcm, nodeSha256 } from "@parley/node";
import { fileJson, fileSummary, removedText, typeName, warningText } from "./file-words.js";
import { tr } from "./i18n.js";
import { formatMessage, type Output, print } from "./output.js";
import { terminalText as t } from "./terminal-text.js";
import { megabytes, messageJson } from "./words.js";

/**
 * A progress bar on a terminal only: none with --json, none when stderr is a pipe or a file. The
 * library is loaded only then: loaded, it costs 7 MiB of the process's memory.
 */
async function progressBar(out: Output, label: "uploading" | "downloading") {
  if (out.json || !process.stderr.isTTY)
    return { update: (_done: number, _total: number) => {}, stop: () => {} };
  const cliProgress = (await import("cli-progress")).default;
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      // The bar's own placeholders ({bar}, {done}…) pass through the catalogue untouched.
      format: tr("cli.files.progress", { label: tr(`cli.files.${label}`) }),
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(done: number, total: number) {
      const payload = { done: megabytes(done), all: megabytes(total) };
      if (!started) {
        bar.start(total, done, payload);
        started = true;
      } else bar.update(done, payload);
    },
    stop: () => started && bar.stop(),
  };
}

export async function sendFileCommand(
  client: ParleyClient,
  out: Output,
  target: string,
  path: string,
  opts: { caption?: string; keepMetadata?: boolean },
): Promise<void> {
  const file = await fileSource(path);
  const bar = await progressBar(out, "uploading");
  const collect = keepMemoryFlat();
  try {
    const sent = await client.sendFile(target, {
      source: file.source,
      sourceId: file.sourceId,
      name: path,
      ...(opts.caption ? { caption: opts.caption } : {}),
      keepMetadata: opts.keepMetadata === true,
      hasher: nodeSha256,
      aead: nodeAesGcm,
      onProgress: ({ sent, total }) => {
        bar.update(sent, total);
        collect(sent);
      },
    });
    bar.stop();
    const f = sent.message.file!;
    const lines = [formatMessage(sent.message)];
    if (sent.resumedFrom > 0) lines.push(tr("cli.files.resumed", { size: megabytes(sent.resumedFrom) }));
    if (sent.removed.length > 0) lines.push(tr("cli.files.removed", { what: removedText(sent.removed) }));
    else if (opts.keepMetadata) lines.push(tr("cli.files.metadataKept"));
    print(out, lines.join("\n"), {
      message: messageJson(sent.message),
      file: fileJson(f),
      resumedFrom: sent.resumedFrom,
    });
  } finally {
    bar.stop();
    await file.close();
  }
}

export async function filesCommand(client: ParleyClient, out: Output, target: string): Promise<void> {
  const list = await client.files(target);
  const human = list.length
    ? list
        .map((m) => {
          const f = m.file!;
          const warnings = f.warnings.map((w) => `\n    ! ${t(warningText(f.name, w))}`).join("");
          return `${t(f.id)}  ${t(fileSummary(f))}${m.text ? ` — ${t(m.text)}` : ""}${warnings}`;
        })
        .join("\n")
    : tr("cli.files.none");
  print(
    out,
    human,
    list.map((m) => ({
      ...fileJson(m.file!),
      from: m.fromMe ? "me" : (m.from.name ?? ""),
      sentAt: m.sentAt,
    })),
  );
}

/** A file id as typed: "#" in front is allowed (and added for ids that start with "-": dash-ids.ts). */
const fileIdOf = (arg: string): string => arg.trim().replace(/^#/, "");

export async function deleteFileCommand(client: ParleyClient, out: Output, idArg: string): Promise<void> {
  const view = await client.deleteFile(fileIdOf(idArg));
  print(out, tr("cli.files.deleted", { name: t(view.name) }), fileJson(view));
}

/** Where a file goes: OUT as given (a folder: the file's safe name inside it), else the current folder. */
function outputPath(out: string | undefined, name: string): string {
  const safe = safeFileName(name).replace(/^[.\s]+/, "_");
  if (out !== undefined) {
    const full = resolve(out);
    return existsSync(full) && statSync(full).isDirectory() ? uniquePath(join(full, safe)) : full;
  }
  return uniquePath(resolve(safe));
}

function uniquePath(path: string): string {
  if (!existsSync(path)) return path;
  const dot = path.lastIndexOf(".");
  const [stem, ext] = dot > path.lastIndexOf("/") + 1 ? [path.slice(0, dot), path.slice(dot)] : [path, ""];
  for (let i = 2; ; i++) if (!existsSync(`${stem} (${i})${ext}`)) return `${stem} (${i})${ext}`;
}

export async function getFileCommand(
  client: ParleyClient,
  out: Output,
  home: string,
  idArg: string,
  outArg: string | undefined,
): Promise<void> {
  const fileId = fileIdOf(idArg);
  const files = await Promise.all(
    (await client.conversations()).map(async (c) => client.files(c.id).catch(() => [])),
  );
  const message = files.flat().find((m) => m.id === fileId);
  const name = message?.file?.name ?? "file";
  const path = outputPath(outArg, name);
  const bar = await progressBar(out, "downloading");
  const collect = keepMemoryFlat();
  let found: FileAssessment | undefined;
  // Earlier versions kept a download's ciphertext in the profile; it is never read again.
  rmSync(join(home, "downloads", `${fileId.replace(/[^A-Za-z0-9_-]/g, "_")}.blob`), { force: true });
  const target = new FileDownloadTarget(path, (a) => {
    found = a;
    bar.stop();
    // Loud, and before the file lands: the person decides whether to open it.
    if (!out.json) {
      for (const w of a.warnings)
        process.stderr.write(`${tr("cli.files.warning", { text: t(warningText(name, w)) })}\n`);
    }
  });
  try {
    const view = await client.getFile(fileId, target, {
      hasher: nodeSha256,
      aead: nodeAesGcm,
      onProgress: ({ phase, received, total }) => {
        // Collections follow the bytes that arrive (decryption moves the same bytes again).
        if (phase === "download") {
          bar.update(received, total);
          collect(received);
        }
      },
    });
    const saved = { name: t(view.name), size: megabytes(view.size), path: t(path) };
    const human = [
      found?.detected
        ? tr("cli.files.saved", { ...saved, type: typeName(found.detected.ext) })
        : tr("cli.files.savedUnknown", saved),
      ...(view.resumedFrom > 0
        ? [tr("cli.files.resumedDownload", { size: megabytes(view.resumedFrom) })]
        : []),
      ...(view.warnings.length ? [tr("cli.files.readWarnings")] : []),
    ].join("\n");
    print(out, human, { ...fileJson(view), path, resumedFrom: view.resumedFrom });
  } finally {
    bar.stop();
  }
}
