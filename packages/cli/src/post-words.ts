/**
 * The CLI's words for posts (docs/04-posts.md): errors, rejections and feed events by code, and
 * how a post reads on a terminal. Names and text come from others: escaped (terminal-text.ts).
 */
import type { ClientEvent, ParleyError, PostView, Rejection } from "@parley/core";
import { fileSummary } from "./file-words.js";
import { joinList, tr } from "./i18n.js";
import { terminalText as t, terminalMessage } from "./terminal-text.js";
import { personLabel, shortId } from "./words.js";

export function postErrorText(e: ParleyError): string {
  const d = e.data as Record<string, unknown>;
  const s = (k: string) => String(d[k] ?? "");
  switch (e.code) {
    case "unknown_post":
      return tr("cli.errors.unknown_post", { id: s("id") });
    case "ambiguous_post":
      return tr("cli.errors.ambiguous_post", { id: s("id") });
    case "not_your_post":
      return tr("cli.errors.not_your_post");
    case "bad_post":
      switch (d.reason) {
        case "empty":
          return tr("cli.errors.post_empty");
        case "too_long":
          return tr("cli.errors.post_too_long", { max: s("max") });
        case "too_many_images":
          return tr("cli.errors.post_too_many_images", { max: s("max") });
        case "not_an_image":
          return tr("cli.errors.post_not_an_image");
        default:
          return tr("cli.errors.post_expiry");
      }
    case "unknown_audience":
      return tr("cli.errors.unknown_audience", { name: s("name") });
    case "audience_exists":
      return tr("cli.errors.audience_exists", { name: s("name") });
    case "not_in_audience":
      return tr("cli.errors.not_in_audience");
    default:
      return e.message;
  }
}

export function postRejectionText(r: Rejection): string {
  switch (r.reason) {
    case "not_post_owner":
    case "unknown_post":
    case "empty_post":
    case "not_a_feed":
      return tr(`cli.rejected.${r.reason}`);
    default:
      return r.reason;
  }
}

export function postEventText(e: Extract<ClientEvent, { type: "post" }>): string {
  const who = personLabel(e.by, tr("cli.you"));
  const id = shortId(e.postId);
  switch (e.change) {
    case "posted":
      return tr("cli.post.posted", { who, id });
    case "comment":
      return tr("cli.post.commented", { who, id });
    case "like":
      return tr("cli.post.liked", { who, id });
    case "deleted":
      return tr("cli.post.deleted", { who, id });
  }
}

const time = (iso: string) => iso.slice(0, 16).replace("T", " ");

/** A post with its photos, likes and comments, a few lines; every field from others escaped. */
export function formatPost(p: PostView): string {
  const to = p.audience
    ? tr("cli.post.to", { audience: p.audience === "all" ? tr("cli.post.allFriends") : t(p.audience) })
    : "";
  const expires = p.expiresAt ? tr("cli.post.vanishes", { time: time(p.expiresAt) }) : "";
  const lines = [`#${t(shortId(p.id))} ${t(personLabel(p.author))} · ${time(p.sentAt)} UTC${to}${expires}`];
  if (p.text) lines.push(`  ${terminalMessage(p.text)}`);
  for (const f of p.images)
    lines.push(`  ${tr("cli.post.photo", { id: t(f.id), summary: t(fileSummary(f)) })}`);
  if (p.likes.length) lines.push(`  ♥ ${joinList(p.likes.map((l) => t(personLabel(l))))}`);
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
