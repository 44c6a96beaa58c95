import type { AudienceView, ContactView, ParleyClient, PostView } from "@parley/core";
import "../feed.css";
import { FeedComposer } from "./FeedComposer";
import { FeedPost } from "./FeedPost";

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
  return (
    <section className="feed" aria-label="Feed">
      <header className="chat-head">
        <button type="button" className="icon-button back" aria-label="Back to chats" onClick={props.onBack}>
          <span aria-hidden="true">‹</span>
        </button>
        <div className="chat-title">
          <h2>Feed</h2>
          <span className="muted small">Posts from your friends, seen only on their devices and yours</span>
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
        {props.loaded && props.posts.length === 0 && (
          <p className="muted feed-empty">No posts yet. What your friends share with you appears here.</p>
        )}
        {props.posts.map((p) => (
          <FeedPost key={p.id} post={p} client={client} onChanged={props.reload} />
        ))}
      </div>
    </section>
  );
}
