/**
 * The CLI's words for posts (docs/04-posts.md): errors, rejections and feed events by code, and
 * how a post reads on a terminal. Names and text come from others: escaped (terminal-text.ts).
 */
import type { ClientEvent, ParleyError, PostView, Rejection } from "@parley/core";
import { fileSummary } from "./file-words.js";
import { terminalText as t, terminalMessage } from "./terminal-text.js";
import { personLabel, shortId } from "./words.js";

export function postErrorText(e: ParleyError): string {
  const d = e.data as Record<string, unknown>;
  const s = (k: string) => String(d[k] ?? "");
  switch (e.code) {
    case "unknown_post":
      return `no post ${s("id")} in your feed: the ids are in \`parley feed\` (it may have expired or been deleted)`;
    case "ambiguous_post":
      return `more than one post id starts with ${s("id")}: give more of it`;
    case "not_your_post":
      return "only its author can delete a post";
    case "bad_post":
      switch (d.reason) {
        case "empty":
          return "a post needs text or a photo";
        case "too_long":
          return `the post is too long: at most ${s("max")} characters`;
        case "too_many_images":
          return `a post has at most ${s("max")} photos`;
        case "not_an_image":
          return "a post's photos must be JPEG, PNG, WebP or GIF images: send other files in a chat";
        default:
          return "--expire takes a time from 1s to 30d, such as 24h or 7d";
      }
    case "unknown_audience":
      return `no audience named "${s("name")}": see \`parley audience list\` ("all" is every contact)`;
    case "audience_exists":
      return `an audience named "${s("name")}" exists already`;
    case "not_in_audience":
      return "you are no longer in this post's audience: you cannot comment on it or like it";
    default:
      return e.message;
  }
}

export function postRejectionText(r: Rejection): string {
  switch (r.reason) {
    case "not_post_owner":
      return "a post (or a post's deletion) from someone other than its feed's owner was dropped";
    case "unknown_post":
      return "a comment or like on a post this device does not have was dropped";
    case "empty_post":
      return "a post with neither text nor photo was dropped";
    case "not_a_feed":
      return "a message that does not belong in this kind of conversation (feed or chat) was dropped";
    default:
      return r.reason;
  }
}

export function postEventText(e: Extract<ClientEvent, { type: "post" }>): string {
  const who = personLabel(e.by, "you");
  switch (e.change) {
    case "posted":
      return `* ${who} posted #${shortId(e.postId)} (see \`parley feed\`)`;
    case "comment":
      return `* ${who} commented on #${shortId(e.postId)}`;
    case "like":
      return `* ${who} liked #${shortId(e.postId)}`;
    case "deleted":
      return `* ${who} deleted post #${shortId(e.postId)}`;
  }
}

const time = (iso: string) => iso.slice(0, 16).replace("T", " ");

/** A post with its photos, likes and comments, a few lines; every field from others escaped. */
export function formatPost(p: PostView): string {
  const to = p.audience ? ` · to ${t(p.audience === "all" ? "all friends" : p.audience)}` : "";
  const expires = p.expiresAt ? ` · vanishes ${time(p.expiresAt)} UTC` : "";
  const lines = [`#${t(shortId(p.id))} ${t(personLabel(p.author))} · ${time(p.sentAt)} UTC${to}${expires}`];
  if (p.text) lines.push(`  ${terminalMessage(p.text)}`);
  for (const f of p.images) lines.push(`  [photo ${t(f.id)}] ${t(fileSummary(f))}`);
  if (p.likes.length) lines.push(`  ♥ ${p.likes.map((l) => t(personLabel(l))).join(", ")}`);
  for (const c of p.comments) lines.push(`  ${t(personLabel(c.author))}: ${terminalMessage(c.text)}`);
  return lines.join("\n");
}

/** A post for --json: `from` as a label, the engine's view as it is. */
export const postJson = (p: PostView) => ({
  ...p,
  from: personLabel(p.author),
  comments: p.comments.map((c) => ({ ...c, from: personLabel(c.author) })),
  likes: p.likes.map((l) => personLabel(l)),
});
