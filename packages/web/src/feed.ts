/**
 * The web app's words for posts (docs/04-posts.md): errors by code, who someone is in a feed, and
 * the audience a composer picks. The engine says nothing in words; this file does, for the Feed view.
 */
import { isParleyError, type PersonRef } from "@parley/core";
import { friendlyError, personName } from "./groups";

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
        return "That post is not in your feed any more: it was deleted or has expired.";
      case "not_your_post":
        return "Only its author can delete a post.";
      case "not_in_audience":
        return "You are no longer in this post's audience: you cannot comment on it or like it.";
      case "unknown_audience":
        return "That audience does not exist any more.";
      case "audience_exists":
        return "An audience of that name exists already.";
      case "bad_post":
        switch (d.reason) {
          case "empty":
            return "Write something or add a photo.";
          case "too_long":
            return `A post is at most ${String(d.max)} characters.`;
          case "too_many_images":
            return `A post has at most ${String(d.max)} photos.`;
          case "not_an_image":
            return "Photos must be JPEG, PNG, WebP or GIF images.";
          default:
            return "Choose how long the post stays: up to 30 days.";
        }
      case "too_long":
        return "That comment is too long.";
    }
  }
  return friendlyError(error);
}

/** A person in the feed: "You", a contact's name, or a member's own name, marked as not a contact. */
export function feedName(p: PersonRef): string {
  if (p.relation === "me") return "You";
  return personName(p);
}
