import { type FileView, isParleyError, type ParleyClient } from "@parley/core";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import {
  dataUrl,
  formatSize,
  INLINE_IMAGE,
  MemoryDownload,
  removedText,
  saveAs,
  typeName,
  warningText,
} from "../files";
import { t as translate } from "../i18n";

/**
 * A file in a message: a thumbnail for images (click to fetch and show it full size), otherwise a
 * card with name, size, detected type and warnings, and a Download button. Fetching verifies the
 * ciphertext's hash and re-detects the real type; warnings are shown before anything is saved.
 * Our own files, while the relay holds them, can be deleted from it ("Delete from relay").
 */
export function FileCard(props: {
  file: FileView;
  /** Sent by us (the words for a deleted file differ). */
  mine: boolean;
  client: ParleyClient;
  onError: (e: unknown) => void;
}) {
  const { t } = useTranslation();
  const [file, setFile] = useState(props.file);
  const [progress, setProgress] = useState<number | null>(null);
  const [full, setFull] = useState<string | null>(null);
  const [fetched, setFetched] = useState<Blob | null>(null);
  const [deleting, setDeleting] = useState(false);

  async function fetchFile(): Promise<{ blob: Blob; view: FileView } | undefined> {
    if (fetched) return { blob: fetched, view: file };
    const target = new MemoryDownload();
    setProgress(0);
    try {
      const view = await props.client.getFile(file.id, target, {
        onProgress: ({ phase, received, total }) => {
          if (phase === "download") setProgress(total > 0 ? received / total : 1);
        },
      });
      setFile(view);
      setFetched(target.result!.blob);
      return { blob: target.result!.blob, view };
    } catch (e) {
      // Its sender deleted it: the card says so from now on (the client recorded it too).
      if (isParleyError(e, "file_deleted")) setFile((f) => ({ ...f, deleted: true, deletable: false }));
      props.onError(e);
      return undefined;
    } finally {
      setProgress(null);
    }
  }

  async function open() {
    const got = await fetchFile();
    if (!got) return;
    if (got.view.detected && INLINE_IMAGE.has(got.view.detected.ext) && got.view.warnings.length === 0) {
      // Decoded by the browser as a picture only: the blob is typed as the detected image type.
      setFull(URL.createObjectURL(new Blob([got.blob], { type: got.view.detected.mime })));
    }
  }

  async function download() {
    const got = await fetchFile();
    if (got && (got.view.warnings.length === 0 || confirmRisk(got.view))) saveAs(got.blob, got.view.name);
  }

  async function deleteFromRelay() {
    if (!window.confirm(t("file.confirmDelete", { name: file.name }))) return;
    setDeleting(true);
    try {
      setFile(await props.client.deleteFile(file.id));
    } catch (e) {
      props.onError(e);
    } finally {
      setDeleting(false);
    }
  }

  const warnings = file.warnings.map((w) => warningText(file.name, w));
  const type = file.detected ? typeName(file.detected.ext) : t("file.unknownType");
  return (
    <div className={`file-card${warnings.length ? " file-danger" : ""}`} data-file-id={file.id}>
      {file.thumbnail && (
        <button
          type="button"
          className="thumbnail"
          onClick={() => void open()}
          aria-label={t("file.open", { name: file.name })}
        >
          <img src={dataUrl(file.thumbnail.mime, file.thumbnail.data)} alt={file.name} />
        </button>
      )}
      <p className="file-name">{file.name}</p>
      <p className="file-meta muted small">
        {t(file.checked ? "file.metaChecked" : "file.meta", { size: formatSize(file.size), type })}
      </p>
      {warnings.map((w) => (
        <p key={w} className="file-warning" role="alert">
          {t("file.warning", { text: w })}
        </p>
      ))}
      {file.removed.length > 0 && (
        <p className="muted small file-removed">{t("file.removed", { what: removedText(file.removed) })}</p>
      )}
      {file.deleted && (
        <p className="muted small file-deleted">
          {props.mine ? t("file.youDeleted") : t("file.senderDeleted")}
        </p>
      )}
      {progress !== null && (
        <progress className="file-progress" value={progress} max={1} aria-label={t("file.progress")} />
      )}
      {(!file.deleted || fetched) && (
        <button
          type="button"
          className="file-download"
          onClick={() => void download()}
          disabled={progress !== null}
        >
          {t("file.download")}
        </button>
      )}
      {file.deletable && (
        <button
          type="button"
          className="file-delete"
          onClick={() => void deleteFromRelay()}
          disabled={deleting || progress !== null}
        >
          {t("file.deleteFromRelay")}
        </button>
      )}
      {full && (
        <div className="image-viewer" role="dialog" aria-label={file.name}>
          <img src={full} alt={file.name} />
          <button
            type="button"
            onClick={() => {
              URL.revokeObjectURL(full);
              setFull(null);
            }}
          >
            {t("common.close")}
          </button>
        </div>
      )}
    </div>
  );
}

function confirmRisk(view: FileView): boolean {
  const lines = view.warnings.map((w) => `• ${warningText(view.name, w)}`).join("\n");
  return window.confirm(translate("file.confirmRisk", { lines }));
}
