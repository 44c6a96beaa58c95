import type { Connection } from "../hooks/useClientEvents";
import { Logo } from "./Brand";

const CONNECTION_LABEL: Record<Connection, string> = {
  open: "Connected",
  connecting: "Connecting…",
  retrying: "Offline — retrying",
  closed: "Offline",
};

/** The brand, the connection status, the profile's name, Settings (where Wipe is) and Lock. */
export function TopBar(props: {
  connection: Connection;
  profileName: string;
  onLock: () => void;
  onSettings: () => void;
}) {
  return (
    <header className="topbar">
      <div className="brand-row">
        <Logo />
        <span className="brand-name">Parley</span>
      </div>
      <div className="topbar-right">
        <span className={`connection connection-${props.connection}`} role="status">
          <span className="dot" aria-hidden="true" />
          <span className="connection-label">{CONNECTION_LABEL[props.connection]}</span>
        </span>
        {props.profileName && (
          <span className="me" title="Your display name">
            {props.profileName}
          </span>
        )}
        <button type="button" onClick={props.onSettings}>
          Settings
        </button>
        <button type="button" onClick={props.onLock}>
          Lock
        </button>
      </div>
    </header>
  );
}

/** A notice for the person above the chats, until dismissed. */
export function NoticeBanner(props: { notice: string | null; onDismiss: () => void }) {
  if (!props.notice) return null;
  return (
    <div className="banner" role="alert">
      <span>{props.notice}</span>
      <button type="button" className="link-button" onClick={props.onDismiss}>
        Dismiss
      </button>
    </div>
  );
}
