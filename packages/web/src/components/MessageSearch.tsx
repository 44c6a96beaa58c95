import type { MessageView, ParleyClient } from "@parley/core";
import { type ReactNode, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { formatListTime } from "../format";
import { personName } from "../groups";
import { snippet } from "../search";

/** How long typing pauses before the search runs. */
const DEBOUNCE_MS = 150;

/**
 * A search box over this device's own history (client.search: the encrypted store's index; the
 * words never leave the browser). With words in it, the found messages replace `children` (the
 * conversation list); choosing one opens its conversation at that message.
 */
export function MessageSearch(props: {
  client: ParleyClient;
  onOpen: (m: MessageView) => void;
  onError: (e: unknown) => void;
  children: ReactNode;
}) {
  const { client, onError } = props;
  const { t } = useTranslation();
  const [query, setQuery] = useState("");
  const [found, setFound] = useState<{ query: string; messages: MessageView[] } | null>(null);
  const wanted = query.trim();

  useEffect(() => {
    if (wanted === "") {
      setFound(null);
      return;
    }
    let current = true;
    const timer = setTimeout(() => {
      client
        .search(wanted)
        .then((messages) => current && setFound({ query: wanted, messages }))
        .catch((e: unknown) => current && onError(e));
    }, DEBOUNCE_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [client, wanted, onError]);

  return (
    <>
      <search className="search-box">
        <input
          type="search"
          aria-label={t("search.label")}
          placeholder={t("search.label")}
          value={query}
          dir="auto"
          onChange={(e) => setQuery(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Escape") setQuery("");
          }}
        />
      </search>
      {wanted === "" ? (
        props.children
      ) : (
        <SearchResults
          found={found?.query === wanted ? found.messages : null}
          query={wanted}
          onOpen={props.onOpen}
        />
      )}
    </>
  );
}

function SearchResults(props: {
  found: MessageView[] | null;
  query: string;
  onOpen: (m: MessageView) => void;
}) {
  const { t } = useTranslation();
  if (props.found === null) return <p className="muted list-empty">{t("search.searching")}</p>;
  if (props.found.length === 0)
    return (
      <p className="muted list-empty" role="status">
        {t("search.none")}
      </p>
    );
  return (
    <ul className="conversation-list search-results" aria-label={t("search.results")}>
      {props.found.map((m) => (
        <li key={`${m.conversationId}/${m.id}`}>
          <button type="button" className="conversation search-result" onClick={() => props.onOpen(m)}>
            <span className="conversation-text">
              <span className="conversation-top">
                <span className="conversation-name" dir="auto">
                  {m.conversation}
                </span>
                <span className="spacer" />
                <span className="conversation-time">{formatListTime(m.sentAt)}</span>
              </span>
              <span className="conversation-preview" dir="auto">
                {t("message.senderSays", { sender: m.fromMe ? t("common.you") : personName(m.from) })}
                {snippet(m.text || m.file?.name || "", props.query).map((part, i) =>
                  part.match ? (
                    // biome-ignore lint/suspicious/noArrayIndexKey: the parts of one fixed text, in order
                    <mark key={i}>{part.text}</mark>
                  ) : (
                    part.text
                  ),
                )}
              </span>
            </span>
          </button>
        </li>
      ))}
    </ul>
  );
}
