import { CATALOGUES, LANGUAGES, type Language } from "@parley/i18n";
import { type FormEvent, useEffect, useId, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { photoUrl } from "../conversations";
import { friendlyError } from "../groups";
import { currentLanguage, setLanguage } from "../i18n";
import { askPermission, DEFAULT_NOTIFICATIONS, type NotificationSettings } from "../notifications";
import { smallPhoto } from "../photo";
import type { Session } from "../session";
import { DevicesSection } from "./DevicesSection";
import { Dialog } from "./Dialog";
import { ResetKeys } from "./KeyReset";

/**
 * This browser's settings: our name, the language, notifications, our devices (linking and
 * revoking), resetting our keys, and wiping the device (one step away, not in the top bar).
 */
export function SettingsDialog(props: {
  session: Session;
  onChanged: (settings: NotificationSettings) => void;
  /** Our display name, and what to do once it changed. */
  profileName: string;
  onRenamed: (name: string) => void;
  onWipe: () => void;
  onClose: () => void;
}) {
  const { t } = useTranslation();
  const { session } = props;
  const [settings, setSettings] = useState<NotificationSettings | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [name, setName] = useState(props.profileName);
  const [nameState, setNameState] = useState<"idle" | "saving" | "saved">("idle");
  const nameId = useId();
  const enabledId = useId();
  const previewsId = useId();
  const languageId = useId();
  const languageHintId = useId();

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
      setError(t("settings.notAllowed"));
      return;
    }
    try {
      await session.saveNotificationSettings(next);
      props.onChanged(next);
    } catch (e) {
      setSettings(before);
      setError(friendlyError(e));
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
    <Dialog title={t("settings.title")} onClose={props.onClose}>
      <h3>{t("settings.yourName")}</h3>
      <form onSubmit={rename} noValidate className="name-row">
        <div className="field">
          <label htmlFor={nameId}>{t("common.displayName")}</label>
          <input
            id={nameId}
            value={name}
            autoComplete="off"
            onChange={(e) => {
              setName(e.target.value);
              setNameState("idle");
            }}
          />
        </div>
        <button type="submit" disabled={nameState === "saving" || name.trim() === props.profileName}>
          {nameState === "saving" ? t("common.saving") : t("common.saveName")}
        </button>
      </form>
      <p className="hint" role="status">
        {nameState === "saved" ? t("settings.saved") : t("settings.nameHint")}
      </p>
      <PhotoSetting session={session} />
      <h3>{t("settings.language")}</h3>
      <div className="field">
        <label htmlFor={languageId} className="sr-only">
          {t("settings.language")}
        </label>
        <select
          id={languageId}
          name="language"
          aria-describedby={languageHintId}
          value={currentLanguage()}
          onChange={(e) => void setLanguage(e.target.value as Language)}
        >
          {LANGUAGES.map((language) => (
            // Each language in its own words, so a person who cannot read this one finds theirs.
            <option key={language} value={language} lang={language}>
              {CATALOGUES[language].meta.name}
            </option>
          ))}
        </select>
        <p id={languageHintId} className="hint">
          {t("settings.languageHint")}
        </p>
      </div>
      <h3>{t("settings.notifications")}</h3>
      {settings && (
        <>
          <div className="check-row">
            <input
              id={enabledId}
              type="checkbox"
              checked={settings.enabled}
              onChange={(e) => void save({ ...settings, enabled: e.target.checked })}
            />
            <label htmlFor={enabledId}>{t("settings.notify")}</label>
          </div>
          <div className="check-row">
            <input
              id={previewsId}
              type="checkbox"
              checked={settings.previews}
              disabled={!settings.enabled}
              onChange={(e) => void save({ ...settings, previews: e.target.checked })}
            />
            <label htmlFor={previewsId}>{t("settings.previews")}</label>
          </div>
          <p className="hint">{t("settings.previewsHint")}</p>
        </>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <DevicesSection session={session} />
      <ResetKeys session={session} />
      <h3>{t("settings.device")}</h3>
      <p className="hint">{t("settings.wipeHint")}</p>
      <div className="actions actions-split">
        <button type="button" className="danger-outline" onClick={props.onWipe}>
          {t("common.wipeDevice")}
        </button>
        <button type="button" onClick={props.onClose}>
          {t("common.done")}
        </button>
      </div>
    </Dialog>
  );
}

/** Our profile photo: chosen, made small on this device, sent to every contact; or removed. */
function PhotoSetting(props: { session: Session }) {
  const { t } = useTranslation();
  const { client } = props.session;
  const [photo, setPhoto] = useState<string | null>(null);
  const [state, setState] = useState<"idle" | "saving" | "saved" | "removed">("idle");
  const [error, setError] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => {
    client
      .profile()
      .then((p) => setPhoto(p.photo ? photoUrl(p.photo) : null))
      .catch(() => setPhoto(null));
  }, [client]);

  async function change(work: () => Promise<{ profile: { photo?: { mime: string; data: string } } }>) {
    setError(null);
    setState("saving");
    try {
      const { profile } = await work();
      setPhoto(profile.photo ? photoUrl(profile.photo) : null);
      setState(profile.photo ? "saved" : "removed");
    } catch (e) {
      setError(friendlyError(e));
      setState("idle");
    }
  }

  return (
    <>
      <h3>{t("settings.photo")}</h3>
      <div className="settings-photo">
        {photo && <img className="settings-photo-img" src={photo} alt={t("settings.photoAlt")} />}
        <button type="button" disabled={state === "saving"} onClick={() => input.current?.click()}>
          {photo ? t("settings.photoChange") : t("settings.photoChoose")}
        </button>
        <input
          ref={input}
          hidden
          aria-label={t("settings.photo")}
          type="file"
          accept="image/jpeg,image/png,image/webp"
          disabled={state === "saving"}
          onChange={(e) => {
            const file = e.target.files?.[0];
            e.target.value = "";
            if (file) void change(async () => client.setProfilePhoto(await smallPhoto(file)));
          }}
        />
        {photo && (
          <button
            type="button"
            disabled={state === "saving"}
            onClick={() => void change(() => client.setProfilePhoto(null))}
          >
            {t("settings.photoRemove")}
          </button>
        )}
      </div>
      <p className="hint" role="status">
        {state === "saving"
          ? t("common.saving")
          : state === "saved"
            ? t("settings.photoSaved")
            : state === "removed"
              ? t("settings.photoRemoved")
              : t("settings.photoHint")}
      </p>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </>
  );
}
