import type { FileView, ParleyClient, PostView } from "@parley/core";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { feedError, feedName } from "../feed";
import { dataUrl, INLINE_IMAGE, MemoryDownload } from "../files";
import { formatListTime, initials } from "../format";
import { joinList } from "../i18n";

/**
 * One photo of a post, inline: its thumbnail at once, then the photo itself, fetched, checked
 * against its hash and decrypted on this device (client/files/get-file.ts) and shown only if it
 * really is an image.
 */
function FeedPhoto(props: { file: FileView; client: ParleyClient }) {
  const { file, client } = props;
  const { t } = useTranslation();
  const [url, setUrl] = useState<string | null>(null);
  const [gone, setGone] = useState(false);
  useEffect(() => {
    let live = true;
    let made: string | null = null;
    const target = new MemoryDownload();
    client
      .getFile(file.id, target)
      .then((view) => {
        if (!live || !view.detected || !INLINE_IMAGE.has(view.detected.ext)) return;
        made = URL.createObjectURL(new Blob([target.result!.blob], { type: view.detected.mime }));
        setUrl(made);
      })
      .catch(() => live && setGone(true));
    return () => {
      live = false;
      if (made) URL.revokeObjectURL(made);
    };
  }, [client, file.id]);
  const thumb = file.thumbnail ? dataUrl(file.thumbnail.mime, file.thumbnail.data) : null;
  if (gone && !thumb) return <div className="feed-photo feed-photo-gone">{t("feed.photoGone")}</div>;
  const src = url ?? thumb;
  return src ? (
    <img className="feed-photo" src={src} alt={file.caption ?? t("feed.photo")} />
  ) : (
    <div className="feed-photo feed-photo-loading">
      <span className="sr-only">{t("feed.loadingPhoto")}</span>
    </div>
  );
}

/** A post as Moments shows it: who and when, text, photos, likes, comments, and what we can do. */
export function FeedPost(props: { post: PostView; client: ParleyClient; onChanged: () => Promise<void> }) {
  const { post, client } = props;
  const { t } = useTranslation();
  const [comment, setComment] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const author = feedName(post.author);

  async function act(work: () => Promise<unknown>) {
    setBusy(true);
    setError(null);
    try {
      await work();
      await props.onChanged();
    } catch (e) {
      setError(feedError(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <article className="feed-post" aria-label={t("feed.postBy", { name: author })}>
      <span className="avatar" aria-hidden="true">
        {initials(post.author.name ?? "?")}
      </span>
      <div className="feed-post-body">
        <header className="feed-post-head">
          <strong dir="auto">{author}</strong>
          <span className="muted">{formatListTime(post.sentAt)}</span>
          {post.mine && post.audience && (
            <span className="tag">
              {post.audience === "all"
                ? t("feed.allFriends")
                : post.audience.startsWith("Chosen ")
                  ? t("feed.chosenContacts")
                  : post.audience}
            </span>
          )}
          {post.expiresAt && (
            <span className="tag">{t("feed.vanishesAt", { time: formatListTime(post.expiresAt) })}</span>
          )}
        </header>
        {post.text && (
          <p className="feed-post-text" dir="auto">
            {post.text}
          </p>
        )}
        {post.images.length > 0 && (
          <div className={`feed-photos feed-photos-${Math.min(post.images.length, 3)}`}>
            {post.images.map((f) => (
              <FeedPhoto key={f.id} file={f} client={client} />
            ))}
          </div>
        )}
        <div className="feed-post-actions">
          <button
            type="button"
            className="small-button"
            aria-pressed={post.likedByMe}
            disabled={busy}
            onClick={() => void act(() => client.like(post.id, !post.likedByMe))}
          >
            {post.likedByMe ? t("feed.liked") : t("feed.like")}
          </button>
          {post.mine && (
            <button
              type="button"
              className="small-button danger-text"
              disabled={busy}
              onClick={() => {
                if (window.confirm(t("feed.deleteQuestion"))) void act(() => client.deletePost(post.id));
              }}
            >
              {t("feed.delete")}
            </button>
          )}
        </div>
        {(post.likes.length > 0 || post.comments.length > 0) && (
          <div className="feed-reactions">
            {post.likes.length > 0 && (
              <p className="feed-likes">
                <span aria-hidden="true">♥ </span>
                <span className="sr-only">{t("feed.likedBy")}</span>
                {joinList(post.likes.map(feedName))}
              </p>
            )}
            {post.comments.length > 0 && (
              <ul className="feed-comments" aria-label={t("feed.comments")}>
                {post.comments.map((c) => (
                  <li key={c.id}>
                    <strong dir="auto">{feedName(c.author)}</strong>
                    {t("feed.commentSep")}
                    <span dir="auto">{c.text}</span>
                  </li>
                ))}
              </ul>
            )}
          </div>
        )}
        <form
          className="feed-comment-form"
          onSubmit={(e) => {
            e.preventDefault();
            if (comment.trim()) void act(() => client.comment(post.id, comment)).then(() => setComment(""));
          }}
        >
          <input
            aria-label={t("feed.commentOn", { name: author })}
            placeholder={t("feed.comment")}
            dir="auto"
            value={comment}
            onChange={(e) => setComment(e.target.value)}
          />
          <button type="submit" className="small-button" disabled={busy || !comment.trim()}>
            {t("feed.send")}
          </button>
        </form>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
      </div>
    </article>
  );
}
