import type { AudienceView, PostView } from "@parley/core";
import { useCallback, useEffect, useState } from "react";
import type { Session } from "../session";
import { useLatest } from "./useNotice";

/**
 * The feed (friends' posts and ours, newest first) and our audiences, loaded from the engine and
 * reloaded when a post event arrives; `unseen`: posts by others that arrived while the Feed view
 * was not open, for the badge beside "Feed".
 */
export function useFeed(session: Session, open: boolean, onError: (e: unknown) => void) {
  const client = session.client;
  const [posts, setPosts] = useState<PostView[]>([]);
  const [audiences, setAudiences] = useState<AudienceView[]>([]);
  const [loaded, setLoaded] = useState(false);
  const [unseen, setUnseen] = useState(0);
  const openRef = useLatest(open);
  const errorRef = useLatest(onError);

  const reload = useCallback(async () => {
    try {
      const [feed, lists] = await Promise.all([client.feed({ limit: 50 }), client.audiences()]);
      setPosts(feed);
      setAudiences(lists);
      setLoaded(true);
    } catch (e) {
      errorRef.current(e);
    }
  }, [client, errorRef]);

  useEffect(() => {
    if (open) {
      setUnseen(0);
      void reload();
    }
  }, [open, reload]);

  /** A post event from the live connection. */
  const onPostEvent = useCallback(
    (change: "posted" | "deleted" | "comment" | "like", byMe: boolean) => {
      if (change === "posted" && !byMe && !openRef.current) setUnseen((n) => n + 1);
      if (openRef.current) void reload();
    },
    [openRef, reload],
  );

  return { posts, audiences, loaded, unseen, reload, onPostEvent };
}
