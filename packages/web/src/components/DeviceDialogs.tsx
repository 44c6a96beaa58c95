import { useState } from "react";
import { useTranslation } from "react-i18next";
import { friendlyError } from "../groups";
import { Dialog } from "./Dialog";

export function WipeDialog(props: { onWipe: () => void; onClose: () => void }) {
  const { t } = useTranslation();
  return (
    <Dialog title={t("common.wipeDeviceQuestion")} onClose={props.onClose}>
      <p>{t("wipe.text")}</p>
      <div className="actions">
        <button type="button" onClick={props.onClose}>
          {t("common.cancel")}
        </button>
        <button type="button" className="danger" onClick={props.onWipe}>
          {t("common.wipeEverything")}
        </button>
      </div>
    </Dialog>
  );
}

/** An invite link opened in the address bar: accept it, or not now. */
export function AcceptInviteDialog(props: {
  /** A group's link: asking to join the group, not a new contact. */
  group?: boolean;
  onAccept: () => Promise<void>;
  onDismiss: () => void;
}) {
  const { t } = useTranslation();
  const [accepting, setAccepting] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function accept() {
    setAccepting(true);
    setError(null);
    try {
      await props.onAccept();
    } catch (e) {
      setError(friendlyError(e));
    } finally {
      setAccepting(false);
    }
  }

  return (
    <Dialog title={t(props.group ? "accept.groupTitle" : "accept.title")} onClose={props.onDismiss}>
      <p>{t(props.group ? "accept.groupText" : "accept.text")}</p>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <div className="actions">
        <button type="button" onClick={props.onDismiss}>
          {t("accept.notNow")}
        </button>
        <button type="button" className="primary" onClick={accept} disabled={accepting}>
          {accepting ? t("common.connecting") : t(props.group ? "accept.askToJoin" : "accept.accept")}
        </button>
      </div>
    </Dialog>
  );
}
