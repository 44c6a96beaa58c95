import { useEffect, useId, useState } from "react";
import { askPermission, DEFAULT_NOTIFICATIONS, type NotificationSettings } from "../notifications";
import type { Session } from "../session";
import { Dialog } from "./Dialog";

/** This browser's settings: notifications, and wiping the device (one step away, not in the top bar). */
export function SettingsDialog(props: {
  session: Session;
  onChanged: (settings: NotificationSettings) => void;
  onWipe: () => void;
  onClose: () => void;
}) {
  const { session } = props;
  const [settings, setSettings] = useState<NotificationSettings | null>(null);
  const [error, setError] = useState<string | null>(null);
  const enabledId = useId();
  const previewsId = useId();

  useEffect(() => {
    session
      .notificationSettings()
      .then(setSettings)
      .catch(() => setSettings(DEFAULT_NOTIFICATIONS));
  }, [session]);

  async function save(next: NotificationSettings) {
    const before = settings;
    setError(null);
    setSettings(next); // the box shows the click at once; undone below if it cannot be kept
    if (next.enabled && !before?.enabled && !(await askPermission())) {
      setSettings(before);
      setError(
        "This browser does not allow Parley to show notifications. Allow them in the site's settings.",
      );
      return;
    }
    try {
      await session.saveNotificationSettings(next);
      props.onChanged(next);
    } catch (e) {
      setSettings(before);
      setError((e as Error).message);
    }
  }

  return (
    <Dialog title="Settings" onClose={props.onClose}>
      <h3>Notifications</h3>
      {settings && (
        <>
          <div className="check-row">
            <input
              id={enabledId}
              type="checkbox"
              checked={settings.enabled}
              onChange={(e) => void save({ ...settings, enabled: e.target.checked })}
            />
            <label htmlFor={enabledId}>Notify me of new messages while Parley is in the background</label>
          </div>
          <div className="check-row">
            <input
              id={previewsId}
              type="checkbox"
              checked={settings.previews}
              disabled={!settings.enabled}
              onChange={(e) => void save({ ...settings, previews: e.target.checked })}
            />
            <label htmlFor={previewsId}>Show who wrote and what</label>
          </div>
          <p className="hint">
            Without this, a notification only says “New message”: notifications can show on a locked screen
            and when you share your screen. Muted chats never notify.
          </p>
        </>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <h3>This device</h3>
      <p className="hint">
        Wiping deletes your profile, contacts and messages from this browser. It cannot be undone.
      </p>
      <div className="actions actions-split">
        <button type="button" className="danger-outline" onClick={props.onWipe}>
          Wipe this device
        </button>
        <button type="button" onClick={props.onClose}>
          Done
        </button>
      </div>
    </Dialog>
  );
}
