/** Chats or Feed: the two views of the app, with a badge for posts that arrived out of sight. */
export function ViewTabs(props: {
  view: "chats" | "feed";
  newPosts: number;
  onView: (v: "chats" | "feed") => void;
}) {
  const label = props.newPosts === 1 ? "1 new post" : `${props.newPosts} new posts`;
  return (
    <nav className="view-tabs" aria-label="View">
      <button type="button" aria-pressed={props.view === "chats"} onClick={() => props.onView("chats")}>
        Chats
      </button>
      <button type="button" aria-pressed={props.view === "feed"} onClick={() => props.onView("feed")}>
        Feed
        {props.newPosts > 0 && (
          <span className="unread" role="status" aria-label={label} title={label}>
            {props.newPosts}
          </span>
        )}
      </button>
    </nav>
  );
}
