import { useTranslation } from "react-i18next";

/** Chats or Feed: the two views of the app, with a badge for posts that arrived out of sight. */
export function ViewTabs(props: {
  view: "chats" | "feed";
  newPosts: number;
  onView: (v: "chats" | "feed") => void;
}) {
  const { t } = useTranslation();
  const label = t("views.newPosts", { count: props.newPosts });
  return (
    <nav className="view-tabs" aria-label={t("views.label")}>
      <button type="button" aria-pressed={props.view === "chats"} onClick={() => props.onView("chats")}>
        {t("views.chats")}
      </button>
      <button type="button" aria-pressed={props.view === "feed"} onClick={() => props.onView("feed")}>
        {t("views.feed")}
        {props.newPosts > 0 && (
          <span className="unread" role="status" aria-label={label} title={label}>
            {props.newPosts}
          </span>
        )}
      </button>
    </nav>
  );
}
