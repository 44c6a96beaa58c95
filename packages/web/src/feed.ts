/**
 * The web app's words for posts (docs/04-posts.md): errors by code, who someone is in a feed, and
 * the audience a composer picks. The engine says nothing in words; this file does, for the Feed view.
 */
import { isParleyError, type PersonRef } from "@parley/core";
import { friendlyError, personName } from "./groups";
import { t } from "./i18n";

/** The audience picker's choice: every contact, a named audience, or contacts chosen for this post. */
export type AudienceChoice =
  | { kind: "all" }
  | { kind: "named"; name: string }
  | { kind: "chosen"; contactIds: string[] };

/**
 * The audience a "chosen contacts" post goes to: an audience of its own, named after the chosen
 * people's ids (the name stays on this device), so the same choice reuses the same feed group.
 */
export const chosenAudienceName = (contactIds: string[]): string =>
  `Chosen ${[...contactIds].sort().join(" ").slice(0, 90)}`;

export function feedError(error: unknown): string {
  if (isParleyError(error)) {
    const d = error.data as Record<string, unknown>;
    switch (error.code) {
      case "unknown_post":
        return t("feed.errors.unknown_post");
      case "not_your_post":
        return t("feed.errors.not_your_post");
      case "not_in_audience":
        return t("feed.errors.not_in_audience");
      case "unknown_audience":
        return t("feed.errors.unknown_audience");
      case "audience_exists":
        return t("feed.errors.audience_exists");
      case "bad_post":
        switch (d.reason) {
          case "empty":
            return t("feed.errors.empty");
          case "too_long":
            return t("feed.errors.too_long", { max: String(d.max) });
          case "too_many_images":
            return t("feed.errors.too_many_images", { max: String(d.max) });
          case "not_an_image":
            return t("feed.errors.not_an_image");
          default:
            return t("feed.errors.bad_expiry");
        }
      case "too_long":
        return t("feed.errors.comment_too_long");
    }
  }
  return friendlyError(error);
}

/** A person in the feed: "You", a contact's name, or a member's own name, marked as not a contact. */
export function feedName(p: PersonRef): string {
  if (p.relation === "me") return t("common.you");
  return personName(p);
}
