import type { AudienceView, ContactView, SendFileInput } from "@parley/core";
import { useState } from "react";
import { type AudienceChoice, chosenAudienceName, feedError } from "../feed";
import { fileSource, thumbnailOf } from "../files";

const LIFETIMES: { label: string; ms: number | null }[] = [
  { label: "Never", ms: null },
  { label: "After 24 hours", ms: 24 * 3600_000 },
  { label: "After 7 days", ms: 7 * 24 * 3600_000 },
];

/**
 * Writing a post: text, photos (up to 9, their location and camera data removed before upload),
 * who sees it — all friends, one of our audiences, or contacts chosen for this post — and whether
 * it vanishes.
 */
export function FeedComposer(props: {
  audiences: AudienceView[];
  contacts: ContactView[];
  onPost: (input: {
    text: string;
    images: SendFileInput[];
    audience: string;
    expiresInMs?: number;
  }) => Promise<void>;
  ensureAudience: (name: string, contactIds: string[]) => Promise<void>;
}) {
  const [text, setText] = useState("");
  const [photos, setPhotos] = useState<File[]>([]);
  const [choice, setChoice] = useState<AudienceChoice>({ kind: "all" });
  const [lifetime, setLifetime] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const named = props.audiences.filter((a) => !a.everyone && !a.name.startsWith("Chosen "));
  const pickable = props.contacts.filter((c) => !c.blocked);

  async function submit() {
    setBusy(true);
    setError(null);
    try {
      const images: SendFileInput[] = [];
      for (const file of photos) {
        const thumbnail = await thumbnailOf(file);
        images.push({
          source: fileSource(file),
          name: file.name,
          ...(file.type ? { mime: file.type } : {}),
          ...(thumbnail ? { thumbnail } : {}),
        });
      }
      let audience = "all";
      if (choice.kind === "named") audience = choice.name;
      if (choice.kind === "chosen") {
        audience = chosenAudienceName(choice.contactIds);
        await props.ensureAudience(audience, choice.contactIds);
      }
      await props.onPost({ text, images, audience, ...(lifetime ? { expiresInMs: lifetime } : {}) });
      setText("");
      setPhotos([]);
    } catch (e) {
      setError(feedError(e));
    } finally {
      setBusy(false);
    }
  }

  const audienceValue = choice.kind === "named" ? `named:${choice.name}` : choice.kind;
  return (
    <form
      className="feed-composer"
      aria-label="New post"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <textarea
        aria-label="What's on your mind?"
        placeholder="What's on your mind?"
        dir="auto"
        value={text}
        rows={3}
        onChange={(e) => setText(e.target.value)}
      />
      {photos.length > 0 && (
        <ul className="feed-composer-photos" aria-label="Photos to post">
          {photos.map((p, i) => (
            <li key={`${p.name}-${p.size}-${p.lastModified}`}>
              {p.name}
              <button
                type="button"
                className="link-button"
                aria-label={`Remove ${p.name}`}
                onClick={() => setPhotos(photos.filter((_, j) => j !== i))}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      <div className="feed-composer-row">
        <label className="feed-photo-pick">
          Add photos
          <input
            type="file"
            accept="image/jpeg,image/png,image/webp,image/gif"
            multiple
            aria-label="Add photos"
            onChange={(e) => {
              setPhotos([...photos, ...Array.from(e.target.files ?? [])]);
              e.target.value = "";
            }}
          />
        </label>
        <label>
          <span className="sr-only">Who sees it</span>
          <select
            aria-label="Who sees it"
            value={audienceValue}
            onChange={(e) => {
              const v = e.target.value;
              if (v === "all") setChoice({ kind: "all" });
              else if (v === "chosen") setChoice({ kind: "chosen", contactIds: [] });
              else setChoice({ kind: "named", name: v.slice("named:".length) });
            }}
          >
            <option value="all">All friends</option>
            {named.map((a) => (
              <option key={a.id} value={`named:${a.name}`}>
                {a.name}
              </option>
            ))}
            <option value="chosen">Chosen contacts…</option>
          </select>
        </label>
        <label>
          <span className="sr-only">Vanishes</span>
          <select
            aria-label="Vanishes"
            value={lifetime ?? ""}
            onChange={(e) => setLifetime(e.target.value ? Number(e.target.value) : null)}
          >
            {LIFETIMES.map((l) => (
              <option key={l.label} value={l.ms ?? ""}>
                {l.ms ? `Vanishes ${l.label.toLowerCase()}` : "Stays"}
              </option>
            ))}
          </select>
        </label>
        <span className="spacer" />
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Posting…" : "Post"}
        </button>
      </div>
      {choice.kind === "chosen" && (
        <fieldset className="feed-chosen">
          <legend>Who sees it</legend>
          {pickable.map((c) => (
            <label key={c.id}>
              <input
                type="checkbox"
                checked={choice.contactIds.includes(c.id)}
                onChange={(e) =>
                  setChoice({
                    kind: "chosen",
                    contactIds: e.target.checked
                      ? [...choice.contactIds, c.id]
                      : choice.contactIds.filter((id) => id !== c.id),
                  })
                }
              />{" "}
              <span dir="auto">{c.name}</span>
            </label>
          ))}
        </fieldset>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
