import type { AudienceView, ContactView, ParleyClient, PostView } from "@parley/core";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import "../feed.css";
import { FeedComposer } from "./FeedComposer";
import { FeedPost } from "./FeedPost";

/**
 * Posts drawn in the view's first frame: more than a screen holds. The rest follow in the next
 * frames, so opening the Feed paints its first screen without first building every post of the
 * 50 loaded, each with its comments (bench web-feed: 50 posts took 67 ms on a quiet machine, 129
 * with another process busy; the target is 100).
 */
const FIRST_SCREEN = 8;

/** The Feed view beside Chats: the composer on top, then friends' posts and ours, newest first. */
export function FeedView(props: {
  client: ParleyClient;
  posts: PostView[];
  audiences: AudienceView[];
  contacts: ContactView[];
  loaded: boolean;
  reload: () => Promise<void>;
  onBack: () => void;
}) {
  const { client } = props;
  const { t } = useTranslation();
  const [drawn, setDrawn] = useState(FIRST_SCREEN);
  useEffect(() => {
    // After the first frame is painted: the rest of the posts.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const frame = requestAnimationFrame(() => {
      timer = setTimeout(() => setDrawn(Number.POSITIVE_INFINITY), 0);
    });
    return () => {
      cancelAnimationFrame(frame);
      if (timer) clearTimeout(timer);
    };
  }, []);
  return (
    <section className="feed" aria-label={t("feed.title")}>
      <header className="chat-head">
        <button type="button" className="icon-button back" aria-label={t("feed.back")} onClick={props.onBack}>
          <span aria-hidden="true">‹</span>
        </button>
        <div className="chat-title">
          <h2>{t("feed.title")}</h2>
          <span className="muted small">{t("feed.subtitle")}</span>
        </div>
      </header>
      <div className="feed-scroll">
        <FeedComposer
          audiences={props.audiences}
          contacts={props.contacts}
          ensureAudience={async (name, contactIds) => {
            if (props.audiences.some((a) => a.name === name)) return;
            await client.createAudience(name, contactIds);
          }}
          onPost={async (input) => {
            await client.post(input);
            await props.reload();
          }}
        />
        {props.loaded && props.posts.length === 0 && <p className="muted feed-empty">{t("feed.empty")}</p>}
        {props.posts.slice(0, drawn).map((p) => (
          <FeedPost key={p.id} post={p} client={client} onChanged={props.reload} />
        ))}
      </div>
    </section>
  );
}
