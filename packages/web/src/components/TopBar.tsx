import { useTranslation } from "react-i18next";
import type { Connection } from "../hooks/useClientEvents";
import { Logo } from "./Brand";

/** The brand, the connection status, the profile's name, Settings (where Wipe is) and Lock. */
export function TopBar(props: {
  connection: Connection;
  profileName: string;
  onLock: () => void;
  onSettings: () => void;
}) {
  const { t } = useTranslation();
  return (
    <header className="topbar">
      <div className="brand-row">
        <Logo />
        <span className="brand-name">Parley</span>
      </div>
      <div className="topbar-right">
        <span className={`connection connection-${props.connection}`} role="status">
          <span className="dot" aria-hidden="true" />
          <span className="connection-label">{t(`topbar.${props.connection}`)}</span>
        </span>
        {props.profileName && (
          <span className="me" title={t("topbar.yourName")}>
            {props.profileName}
          </span>
        )}
        <button type="button" onClick={props.onSettings}>
          {t("topbar.settings")}
        </button>
        <button type="button" onClick={props.onLock}>
          {t("topbar.lock")}
        </button>
      </div>
    </header>
  );
}

/** A notice for the person above the chats, until dismissed. */
export function NoticeBanner(props: { notice: string | null; onDismiss: () => void }) {
  const { t } = useTranslation();
  if (!props.notice) return null;
  return (
    <div className="banner" role="alert">
      <span>{props.notice}</span>
      <button type="button" className="link-button" onClick={props.onDismiss}>
        {t("common.dismiss")}
      </button>
    </div>
  );
}
