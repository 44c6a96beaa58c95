/**
 * Issue 13 in the web app, on a device that has the profile: Settings → "Your devices" lists our
 * devices (added, last active) with a revoke button each, and links a new one: a one-time link and
 * its QR code, then the short code the new device shows, typed here to confirm (comparing cannot be
 * skipped), then the new device is added to every chat and group (core devices/link-existing.ts).
 */
import type { DeviceView, LinkOffer, LinkRequest } from "@parley/core";
import { type FormEvent, useCallback, useEffect, useId, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { formatListTime } from "../format";
import { friendlyError } from "../groups";
import type { Session } from "../session";
import { QrCode } from "./QrCode";

type LinkStep =
  | { kind: "idle" }
  | { kind: "offer"; offer: LinkOffer }
  | { kind: "request"; request: LinkRequest }
  | { kind: "linking"; device: string }
  | { kind: "done"; text: string };

export function DevicesSection(props: { session: Session }) {
  const { t } = useTranslation();
  const { client } = props.session;
  const [devices, setDevices] = useState<DeviceView[] | null>(null);
  const [step, setStep] = useState<LinkStep>({ kind: "idle" });
  const [code, setCode] = useState("");
  const [revoking, setRevoking] = useState<string | null>(null);
  const [withHistory, setWithHistory] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const codeId = useId();
  const historyId = useId();
  // The offer a dialog closed in the middle of a link leaves: given up, its queue deleted.
  const open = useRef<LinkOffer | null>(null);

  const reload = useCallback(() => {
    client
      .devices()
      .then(setDevices)
      .catch((e) => setError(friendlyError(e)));
  }, [client]);
  useEffect(reload, [reload]);
  useEffect(
    () => () => {
      if (open.current) void client.cancelDeviceLink(open.current);
    },
    [client],
  );

  async function startLink() {
    setError(null);
    setCode("");
    try {
      const offer = await client.createDeviceLink();
      open.current = offer;
      setStep({ kind: "offer", offer });
      const request = await client.awaitLinkRequest(offer);
      if (open.current !== offer) return; // cancelled meanwhile
      setStep({ kind: "request", request });
    } catch (e) {
      if (open.current) setError(friendlyError(e));
      open.current = null;
      setStep({ kind: "idle" });
    }
  }

  async function cancel() {
    const offer = open.current;
    open.current = null;
    setStep({ kind: "idle" });
    if (offer) await client.cancelDeviceLink(offer);
  }

  async function confirm(e: FormEvent, request: LinkRequest) {
    e.preventDefault();
    setError(null);
    const typed = code.replace(/\s/g, "");
    if (typed !== request.code) {
      // A wrong code ends the link: someone else may have claimed it (core does the same).
      await cancel();
      setError(t("devices.codeMismatch"));
      return;
    }
    setStep({ kind: "linking", device: request.device });
    try {
      const r = await client.completeLink(request, typed, undefined, { withHistory });
      open.current = null;
      const linked = t("devices.linked", { device: r.device.name, count: r.linked.length });
      const history = r.history ? ` ${t("devices.historySent", { count: r.history.messages })}` : "";
      setStep({ kind: "done", text: linked + history });
      if (r.skipped.length) setError(t("devices.skipped", { count: r.skipped.length }));
      reload();
    } catch (err) {
      open.current = null;
      setStep({ kind: "idle" });
      setError(friendlyError(err));
    }
  }

  async function revoke(device: DeviceView) {
    setError(null);
    try {
      const r = await client.revokeDevice(device.deviceKey);
      setStep({
        kind: "done",
        text: t("devices.revoked", { device: device.name || t("devices.unnamed"), count: r.revoked.length }),
      });
      reload();
    } catch (e) {
      setError(friendlyError(e));
    } finally {
      setRevoking(null);
    }
  }

  const current = (devices ?? []).filter((d) => !d.revoked);
  return (
    <>
      <h3>{t("devices.title")}</h3>
      <ul className="device-list" aria-label={t("devices.title")}>
        {current.map((d) => (
          <li key={d.deviceKey}>
            <span>
              <strong>{d.name || t("devices.unnamed")}</strong>
              {d.current && ` ${t("devices.thisOne")}`}
              <br />
              <span className="hint">
                {d.added ? t("devices.added", { at: formatListTime(d.added) }) : ""}
                {d.lastActive && !d.current
                  ? ` · ${t("devices.active", { at: formatListTime(d.lastActive) })}`
                  : ""}
              </span>
            </span>
            {!d.current &&
              (revoking === d.deviceKey ? (
                <span className="actions">
                  <button type="button" className="danger" onClick={() => void revoke(d)}>
                    {t("devices.revokeYes")}
                  </button>
                  <button type="button" onClick={() => setRevoking(null)}>
                    {t("common.cancel")}
                  </button>
                </span>
              ) : (
                <button type="button" className="danger-outline" onClick={() => setRevoking(d.deviceKey)}>
                  {t("devices.revoke")}
                </button>
              ))}
          </li>
        ))}
      </ul>
      {revoking && (
        <p className="hint" role="alert">
          {t("devices.revokeExplain")}
        </p>
      )}

      {(step.kind === "idle" || step.kind === "done") && (
        <div className="actions">
          <button type="button" onClick={() => void startLink()}>
            {t("devices.link")}
          </button>
        </div>
      )}
      {step.kind === "offer" && (
        <div className="device-link-box">
          <p className="hint">{t("devices.scanOrOpen")}</p>
          <QrCode value={step.offer.link} label={t("devices.qr")} size={220} />
          <input
            readOnly
            value={step.offer.link}
            aria-label={t("devices.linkLabel")}
            onFocus={(e) => e.target.select()}
          />
          <p className="hint" role="status">
            {t("devices.waiting")}
          </p>
          <div className="actions">
            <button type="button" onClick={() => void navigator.clipboard?.writeText(step.offer.link)}>
              {t("devices.copy")}
            </button>
            <button type="button" onClick={() => void cancel()}>
              {t("common.cancel")}
            </button>
          </div>
        </div>
      )}
      {step.kind === "request" && (
        <form onSubmit={(e) => void confirm(e, step.request)} noValidate>
          <p>{t("devices.asks", { device: step.request.device })}</p>
          <div className="field">
            <label htmlFor={codeId}>{t("devices.code")}</label>
            <input
              id={codeId}
              inputMode="numeric"
              autoComplete="one-time-code"
              value={code}
              onChange={(e) => setCode(e.target.value)}
            />
          </div>
          <div className="check-row">
            <input
              id={historyId}
              type="checkbox"
              checked={withHistory}
              onChange={(e) => setWithHistory(e.target.checked)}
            />
            <label htmlFor={historyId}>{t("devices.withHistory")}</label>
          </div>
          <p className="hint">{t("devices.withHistoryHint")}</p>
          <div className="actions">
            <button type="submit" className="primary">
              {t("devices.confirm")}
            </button>
            <button type="button" onClick={() => void cancel()}>
              {t("common.cancel")}
            </button>
          </div>
        </form>
      )}
      {step.kind === "linking" && (
        <p className="hint" role="status">
          {t("devices.linking", { device: step.device })}
        </p>
      )}
      {step.kind === "done" && (
        <p className="hint" role="status">
          {step.text}
        </p>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </>
  );
}
