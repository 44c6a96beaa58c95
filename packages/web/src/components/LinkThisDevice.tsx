import { parseDeviceLink } from "@parley/core";
import { type FormEvent, useCallback, useId, useState } from "react";
import { useTranslation } from "react-i18next";
import { friendlyError } from "../groups";
import { useQrScan } from "../hooks/useQrScan";
import { t } from "../i18n";
import { MIN_PASSPHRASE_LENGTH, type PendingLink, Session } from "../session";
import { Logo } from "./Brand";
import { NewPassphrase, passphraseProblem } from "./NewPassphrase";

/** A new browser's default name among the person's devices (they can change it). */
function defaultDeviceName(): string {
  const platform = (navigator as { userAgentData?: { platform?: string } }).userAgentData?.platform;
  return platform ? t("linkDevice.defaultNameOn", { platform }) : t("linkDevice.defaultName");
}

/** The relay in a device link, or null when the text is no device link. */
function relayOf(link: string): string | null {
  try {
    return parseDeviceLink(link).relay;
  } catch {
    return null;
  }
}

/**
 * "Link to an existing profile": this browser becomes a new device of a person who has Parley on
 * another device (`parley device link` there, or the web app's Settings → Your devices). The link
 * is pasted, or read from the other device's QR code with the camera; then both devices show a
 * short code, which the person types on the other device. This browser gets the identity, the
 * contacts and every chat and group from then on, end to end: the relay sees an invite-like blob.
 */
export function LinkThisDevice(props: {
  initialLink?: string;
  onReady: (session: Session) => void;
  onBack: () => void;
}) {
  useTranslation(); // re-renders in the chosen language
  const [link, setLink] = useState(props.initialLink ?? "");
  const [device, setDevice] = useState(defaultDeviceName);
  const [passphrase, setPassphrase] = useState("");
  const [confirm, setConfirm] = useState("");
  const [scanning, setScanning] = useState(false);
  const [busy, setBusy] = useState(false);
  const [pending, setPending] = useState<PendingLink | null>(null);
  const [error, setError] = useState<string | null>(null);
  const linkId = useId();
  const deviceId = useId();
  const relay = window.location.origin;

  const onScanned = useCallback((text: string) => {
    setScanning(false);
    setLink(text);
  }, []);
  const { video, camera } = useQrScan(scanning, onScanned);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    const linkRelay = relayOf(link);
    if (!linkRelay) return setError(t("linkDevice.notALink"));
    // The app talks to the relay that serves it, and only to it (Onboarding says why).
    if (linkRelay !== relay) return setError(t("linkDevice.otherRelay", { relay: linkRelay }));
    if (device.trim().length === 0) return setError(t("linkDevice.needDevice"));
    const problem = passphraseProblem(passphrase, confirm);
    if (problem) return setError(problem);
    setBusy(true);
    let started: PendingLink;
    try {
      started = await Session.beginLink({ link: link.trim(), deviceName: device.trim(), passphrase });
    } catch (err) {
      setBusy(false);
      return setError(linkErrorText(err));
    }
    setPending(started);
    try {
      const { session } = await started.finish();
      props.onReady(session);
    } catch (err) {
      setPending(null);
      setBusy(false);
      setError(linkErrorText(err));
    }
  }

  const linkErrorText = (err: unknown): string => t("linkDevice.failed", { cause: friendlyError(err) });

  if (pending) {
    return (
      <main className="center-screen">
        <div className="card onboarding" aria-busy="true">
          <div className="brand-row">
            <Logo size={36} />
            <h1>{t("linkDevice.confirmTitle")}</h1>
          </div>
          <p className="lead">{t("linkDevice.typeThere")}</p>
          <output className="link-code" aria-label={t("linkDevice.codeLabel")}>
            {pending.code.slice(0, 3)} {pending.code.slice(3)}
          </output>
          <p className="hint" role="status">
            {t("linkDevice.waiting")}
          </p>
        </div>
      </main>
    );
  }

  return (
    <main className="center-screen">
      <form className="card onboarding" onSubmit={submit} noValidate>
        <div className="brand-row">
          <Logo size={36} />
          <h1>{t("linkDevice.title")}</h1>
        </div>
        <p className="lead">{t("linkDevice.lead")}</p>

        <div className="field">
          <label htmlFor={linkId}>{t("linkDevice.link")}</label>
          <input
            id={linkId}
            name="link"
            autoComplete="off"
            spellCheck={false}
            value={link}
            onChange={(e) => setLink(e.target.value)}
          />
          {!scanning && (
            <button type="button" className="link-button" onClick={() => setScanning(true)}>
              {t("linkDevice.scan")}
            </button>
          )}
        </div>
        {scanning && (
          <div className="safety-scanner">
            {camera !== "none" && (
              <video
                ref={video}
                className="scanner-video"
                muted
                playsInline
                aria-label={t("safety.camera")}
              />
            )}
            <p className="muted small" role="status">
              {camera === "none" ? t("linkDevice.noCamera") : t("linkDevice.point")}
            </p>
            <div className="actions">
              <button type="button" onClick={() => setScanning(false)}>
                {t("safety.stop")}
              </button>
            </div>
          </div>
        )}

        <div className="field">
          <label htmlFor={deviceId}>{t("linkDevice.deviceName")}</label>
          <input
            id={deviceId}
            name="device"
            autoComplete="off"
            value={device}
            onChange={(e) => setDevice(e.target.value)}
          />
        </div>

        <NewPassphrase
          passphrase={passphrase}
          confirm={confirm}
          onPassphrase={setPassphrase}
          onConfirm={setConfirm}
          hint={t("linkDevice.passphraseHint", { min: MIN_PASSPHRASE_LENGTH })}
        />

        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}

        <button type="submit" className="primary wide" disabled={busy}>
          {busy ? t("linkDevice.linking") : t("linkDevice.submit")}
        </button>
        <button type="button" className="link-button" onClick={props.onBack}>
          {t("linkDevice.back")}
        </button>
      </form>
    </main>
  );
}
