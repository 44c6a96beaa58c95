import type { GroupLinkView, JoinRequestView, ParleyClient } from "@parley/core";
import { useCallback, useEffect, useId, useState } from "react";
import { useTranslation } from "react-i18next";
import { formatMessageTime } from "../format";
import { friendlyError } from "../groups";
import type { LineEvent } from "../lines";

const EXPIRIES = { never: undefined, "1h": 3_600_000, "1d": 86_400_000, "7d": 604_800_000 } as const;
type Expiry = keyof typeof EXPIRIES;

/**
 * A group's invite link, for its admins (issue 14; core client/group-links/): make one (with an
 * expiry, with approval), copy it, revoke it; and the people who asked to join and wait for
 * approval. The list is read again every few seconds while shown: requests arrive by sync.
 */
export function GroupLinkSection(props: {
  client: ParleyClient;
  group: string;
  /** After an approval: lines for the chat. */
  onAdded: (lines: LineEvent[]) => Promise<void>;
}) {
  const { t } = useTranslation();
  const { client, group } = props;
  const [link, setLink] = useState<GroupLinkView | null>(null);
  const [requests, setRequests] = useState<JoinRequestView[]>([]);
  const [approve, setApprove] = useState(false);
  const [expiry, setExpiry] = useState<Expiry>("1d");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  const headingId = useId();
  const approveId = useId();
  const expiryId = useId();
  const linkId = useId();

  const load = useCallback(async () => {
    const [current, waiting] = await Promise.all([client.groupLink(group), client.joinRequests(group)]);
    setLink(current);
    setRequests(waiting);
  }, [client, group]);

  useEffect(() => {
    void load().catch((e: unknown) => setError(friendlyError(e)));
    const timer = setInterval(() => void load().catch(() => {}), 3000);
    return () => clearInterval(timer);
  }, [load]);

  async function act(work: () => Promise<unknown>) {
    setBusy(true);
    setError(null);
    try {
      await work();
      await load();
    } catch (e) {
      setError(friendlyError(e));
    } finally {
      setBusy(false);
    }
  }

  const create = () =>
    act(async () => {
      const ms = EXPIRIES[expiry];
      setCopied(false);
      setLink(await client.createGroupLink(group, { approve, ...(ms ? { expiresInMs: ms } : {}) }));
    });

  return (
    <section aria-labelledby={headingId} className="group-link">
      <h3 id={headingId}>{t("groupLink.title")}</h3>
      <p className="hint">{t("groupLink.hint")}</p>
      {link && (
        <div className="field">
          <label htmlFor={linkId}>{t("groupLink.current")}</label>
          <textarea id={linkId} className="mono" rows={3} readOnly value={link.link} />
          <p className="hint">
            {link.expiresAt
              ? t("groupLink.until", { time: formatMessageTime(link.expiresAt) })
              : t("groupLink.noExpiry")}
            {" · "}
            {link.approve ? t("groupLink.withApproval") : t("groupLink.withoutApproval")}
          </p>
          <div className="actions">
            <button
              type="button"
              onClick={() =>
                void navigator.clipboard
                  .writeText(link.link)
                  .then(() => setCopied(true))
                  .catch(() => setCopied(false))
              }
            >
              {copied ? t("groupLink.copied") : t("groupLink.copy")}
            </button>
            <button
              type="button"
              className="danger-outline"
              disabled={busy}
              onClick={() => act(() => client.revokeGroupLink(group))}
            >
              {t("groupLink.revoke")}
            </button>
          </div>
        </div>
      )}
      <div className="check-row">
        <input
          id={approveId}
          type="checkbox"
          checked={approve}
          onChange={(e) => setApprove(e.target.checked)}
        />
        <label htmlFor={approveId}>{t("groupLink.approve")}</label>
      </div>
      <div className="field">
        <label htmlFor={expiryId}>{t("groupLink.expires")}</label>
        <select id={expiryId} value={expiry} onChange={(e) => setExpiry(e.target.value as Expiry)}>
          {(Object.keys(EXPIRIES) as Expiry[]).map((k) => (
            <option key={k} value={k}>
              {t(`groupLink.expiry.${k}`)}
            </option>
          ))}
        </select>
      </div>
      <div className="actions">
        <button type="button" className="primary" disabled={busy} onClick={create}>
          {link ? t("groupLink.replace") : t("groupLink.create")}
        </button>
      </div>
      <h3>{t("groupLink.requests")}</h3>
      {requests.length === 0 ? (
        <p className="muted">{t("groupLink.noRequests")}</p>
      ) : (
        <ul className="join-requests">
          {requests.map((r) => (
            <li key={r.id}>
              <span dir="auto">{r.name}</span>
              <span className="actions">
                <button
                  type="button"
                  className="primary"
                  aria-label={t("groupLink.approveLabel", { name: r.name })}
                  disabled={busy}
                  onClick={() =>
                    act(async () => {
                      await client.approveJoinRequest(group, r.id);
                      await props.onAdded([{ code: "youAddedByLink", name: r.name }]);
                    })
                  }
                >
                  {t("groupLink.approveOne")}
                </button>
                <button
                  type="button"
                  aria-label={t("groupLink.declineLabel", { name: r.name })}
                  disabled={busy}
                  onClick={() => act(() => client.declineJoinRequest(group, r.id))}
                >
                  {t("groupLink.decline")}
                </button>
              </span>
            </li>
          ))}
        </ul>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
