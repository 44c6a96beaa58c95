import { useCallback, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { Messenger } from "./components/Messenger";
import { Onboarding } from "./components/Onboarding";
import { Unlock } from "./components/Unlock";
import { deviceLinkFromLocation, inviteFromLocation } from "./format";
import { Session } from "./session";

type Phase =
  | { kind: "loading" }
  | { kind: "onboarding" }
  | { kind: "locked"; notice?: string }
  | { kind: "ready"; session: Session }
  | { kind: "error"; cause: string };

/** Reads an invite link out of the address once, then takes the key out of the address bar. */
function takeInviteFromLocation(): string | null {
  const link = inviteFromLocation(window.location.href);
  if (link) window.history.replaceState(null, "", window.location.pathname + window.location.search);
  return link;
}

/** A device link opened in the address (its QR code scanned with a phone's camera), taken out of it. */
function takeDeviceLinkFromLocation(): string | null {
  const link = deviceLinkFromLocation(window.location.href);
  if (link) window.history.replaceState(null, "", window.location.pathname + window.location.search);
  return link;
}

export function App() {
  const { t } = useTranslation();
  const [phase, setPhase] = useState<Phase>({ kind: "loading" });
  const [pendingInvite, setPendingInvite] = useState<string | null>(() => takeInviteFromLocation());
  const [deviceLink] = useState<string | null>(() => takeDeviceLinkFromLocation());

  useEffect(() => {
    Session.exists()
      .then((exists) => setPhase(exists ? { kind: "locked" } : { kind: "onboarding" }))
      .catch((e: Error) => setPhase({ kind: "error", cause: e.message }));
  }, []);

  // An invite link opened while the app is already open in this tab.
  useEffect(() => {
    const onHash = () => {
      const link = takeInviteFromLocation();
      if (link) setPendingInvite(link);
    };
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);

  const onLocked = useCallback((notice?: string) => setPhase({ kind: "locked", notice }), []);
  const onWiped = useCallback(() => setPhase({ kind: "onboarding" }), []);
  const onReady = useCallback((session: Session) => setPhase({ kind: "ready", session }), []);

  switch (phase.kind) {
    case "loading":
      return (
        <main className="center-screen" aria-busy="true">
          <p className="muted">{t("app.opening")}</p>
        </main>
      );
    case "error":
      return (
        <main className="center-screen">
          <div className="card" role="alert">
            <h1>{t("app.cannotStart")}</h1>
            <p>{t("app.noStorage", { cause: phase.cause })}</p>
          </div>
        </main>
      );
    case "onboarding":
      return <Onboarding onReady={onReady} hasInvite={pendingInvite !== null} deviceLink={deviceLink} />;
    case "locked":
      return <Unlock onReady={onReady} onWiped={onWiped} notice={phase.notice} />;
    case "ready":
      return (
        <Messenger
          session={phase.session}
          pendingInvite={pendingInvite}
          onInviteHandled={() => setPendingInvite(null)}
          onLocked={onLocked}
          onWiped={onWiped}
        />
      );
  }
}
