import { type FormEvent, useEffect, useId, useState } from "react";
import { friendlyError } from "../groups";
import { askPermission, DEFAULT_NOTIFICATIONS, type NotificationSettings } from "../notifications";
import type { Session } from "../session";
import { Dialog } from "./Dialog";
import { ResetKeys } from "./KeyReset";

/** This browser's settings: notifications, and wiping the device (one step away, not in the top bar). */
export function SettingsDialog(props: {
  session: Session;
  onChanged: (settings: NotificationSettings) => void;
  /** Our display name, and what to do once it changed. */
  profileName: string;
  onRenamed: (name: string) => void;
  onWipe: () => void;
  onClose: () => void;
}) {
  const { session } = props;
  const [settings, setSettings] = useState<NotificationSettings | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [name, setName] = useState(props.profileName);
  const [nameState, setNameState] = useState<"idle" | "saving" | "saved">("idle");
  const nameId = useId();
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

  async function rename(e: FormEvent) {
    e.preventDefault();
    const wanted = name.trim();
    if (wanted === props.profileName) return;
    setError(null);
    setNameState("saving");
    try {
      const { profile } = await session.client.setProfileName(wanted);
      props.onRenamed(profile.name);
      setNameState("saved");
    } catch (err) {
      setError(friendlyError(err));
      setNameState("idle");
    }
  }

  return (
    <Dialog title="Settings" onClose={props.onClose}>
      <h3>Your name</h3>
      <form onSubmit={rename} noValidate className="name-row">
        <div className="field">
          <label htmlFor={nameId}>Display name</label>
          <input
            id={nameId}
            value={name}
            maxLength={64}
            autoComplete="off"
            onChange={(e) => {
              setName(e.target.value);
              setNameState("idle");
            }}
          />
        </div>
        <button type="submit" disabled={nameState === "saving" || name.trim() === props.profileName}>
          {nameState === "saving" ? "Saving…" : "Save name"}
        </button>
      </form>
      <p className="hint" role="status">
        {nameState === "saved"
          ? "Saved. Your contacts and groups are told, end to end."
          : "Your contacts and groups see it; a contact who named you themselves keeps their name for you."}
      </p>
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
      <ResetKeys session={session} />
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
