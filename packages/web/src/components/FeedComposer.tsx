import type { AudienceView, ContactView, SendFileInput } from "@parley/core";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { type AudienceChoice, chosenAudienceName, feedError } from "../feed";
import { fileSource, thumbnailOf } from "../files";

const LIFETIMES = [
  { label: "feed.stays", ms: null },
  { label: "feed.vanishes24h", ms: 24 * 3600_000 },
  { label: "feed.vanishes7d", ms: 7 * 24 * 3600_000 },
] as const;

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
  const { t } = useTranslation();
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
      aria-label={t("feed.newPost")}
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <textarea
        aria-label={t("feed.placeholder")}
        placeholder={t("feed.placeholder")}
        dir="auto"
        value={text}
        rows={3}
        onChange={(e) => setText(e.target.value)}
      />
      {photos.length > 0 && (
        <ul className="feed-composer-photos" aria-label={t("feed.photosToPost")}>
          {photos.map((p, i) => (
            <li key={`${p.name}-${p.size}-${p.lastModified}`}>
              {p.name}
              <button
                type="button"
                className="link-button"
                aria-label={t("feed.removePhoto", { name: p.name })}
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
          {t("feed.addPhotos")}
          <input
            type="file"
            accept="image/jpeg,image/png,image/webp,image/gif"
            multiple
            aria-label={t("feed.addPhotos")}
            onChange={(e) => {
              setPhotos([...photos, ...Array.from(e.target.files ?? [])]);
              e.target.value = "";
            }}
          />
        </label>
        <label>
          <span className="sr-only">{t("feed.whoSees")}</span>
          <select
            aria-label={t("feed.whoSees")}
            value={audienceValue}
            onChange={(e) => {
              const v = e.target.value;
              if (v === "all") setChoice({ kind: "all" });
              else if (v === "chosen") setChoice({ kind: "chosen", contactIds: [] });
              else setChoice({ kind: "named", name: v.slice("named:".length) });
            }}
          >
            <option value="all">{t("feed.allFriends")}</option>
            {named.map((a) => (
              <option key={a.id} value={`named:${a.name}`}>
                {a.name}
              </option>
            ))}
            <option value="chosen">{t("feed.chooseContacts")}</option>
          </select>
        </label>
        <label>
          <span className="sr-only">{t("feed.vanishes")}</span>
          <select
            aria-label={t("feed.vanishes")}
            value={lifetime ?? ""}
            onChange={(e) => setLifetime(e.target.value ? Number(e.target.value) : null)}
          >
            {LIFETIMES.map((l) => (
              <option key={l.label} value={l.ms ?? ""}>
                {t(l.label)}
              </option>
            ))}
          </select>
        </label>
        <span className="spacer" />
        <button type="submit" className="primary" disabled={busy}>
          {busy ? t("feed.posting") : t("feed.post")}
        </button>
      </div>
      {choice.kind === "chosen" && (
        <fieldset className="feed-chosen">
          <legend>{t("feed.whoSees")}</legend>
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
