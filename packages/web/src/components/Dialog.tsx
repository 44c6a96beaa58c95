import { type ReactNode, useEffect, useId, useRef } from "react";
import { useTranslation } from "react-i18next";

/**
 * A modal built on the native <dialog>: the browser traps focus, Escape closes it, and the title
 * is its accessible name. Mark the control to start on with `data-autofocus`.
 */
export function Dialog(props: { title: string; onClose: () => void; children: ReactNode; wide?: boolean }) {
  const { t } = useTranslation();
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const { onClose } = props;

  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) {
      dialog.showModal();
      // showModal focuses the first control (the Close button); a form starts at its field instead.
      dialog.querySelector<HTMLElement>("[data-autofocus]")?.focus();
    }
    return () => dialog?.close();
  }, []);

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const onCancel = (e: Event) => {
      e.preventDefault();
      onClose();
    };
    dialog.addEventListener("cancel", onCancel);
    return () => dialog.removeEventListener("cancel", onCancel);
  }, [onClose]);

  return (
    <dialog ref={ref} className={props.wide ? "dialog dialog-wide" : "dialog"} aria-labelledby={titleId}>
      <div className="dialog-head">
        <h2 id={titleId}>{props.title}</h2>
        <button type="button" className="icon-button" aria-label={t("common.close")} onClick={onClose}>
          <span aria-hidden="true">×</span>
        </button>
      </div>
      <div className="dialog-body">{props.children}</div>
    </dialog>
  );
}

/** The end of a dialog's form: its error, if any, then Cancel and the submit button. */
export function FormFooter(props: {
  error: string | null | undefined;
  busy: boolean;
  submitLabel: string;
  busyLabel: string;
  onCancel: () => void;
}) {
  const { t } = useTranslation();
  return (
    <>
      {props.error && (
        <p className="error" role="alert">
          {props.error}
        </p>
      )}
      <div className="actions">
        <button type="button" onClick={props.onCancel}>
          {t("common.cancel")}
        </button>
        <button type="submit" className="primary" disabled={props.busy}>
          {props.busy ? props.busyLabel : props.submitLabel}
        </button>
      </div>
    </>
  );
}
