/**
 * What the feed keeps on a device (docs/04-posts.md): one record per post, with its comments and
 * likes inside it, under `post/<feed conversation id>/<post id>`; the author's audiences under
 * `audience/<id>`. Keys hold local ids and post ids only (base64url), never a name or text
 * (store/keys.ts). A post's photos are file messages of the feed conversation's history, so that
 * fetching, checking and deleting them is the file pipeline's (client/files/).
 */

import type { Batch } from "../../store/batch.js";
import { unjson } from "../../store/batch.js";
import type { ClientContext } from "../context.js";

export interface CommentRecord {
  id: string;
  /** Identity key (base64url) of its author. */
  author: string;
  text: string;
  /** Its author's clock. */
  sentAt: number;
}

export interface PostRecord {
  v: 1;
  id: string;
  /** The feed group it arrived in (or we posted it to). */
  conversationId: string;
  /** Identity key (base64url) of its author. */
  author: string;
  text: string;
  /** Content ids of its photos: file messages in the feed conversation's history, in order. */
  images: string[];
  sentAt: number;
  receivedAt: number;
  /** When it vanishes from every device (the author's clock), if it does. */
  expiresAt?: number;
  comments: CommentRecord[];
  /** Who likes it: identity key → the time they said so (their clock). */
  likes: Record<string, number>;
}

/**
 * An audience of ours: a name only we see, and the feed group its posts go to. `everyone`: the
 * audience "all", whose members are every contact we have not blocked, kept so at each post.
 */
export interface AudienceRecord {
  v: 1;
  id: string;
  name: string;
  conversationId: string;
  everyone: boolean;
  /** Contact ids chosen for it (not for `everyone`). */
  members: string[];
  createdAt: number;
}

const postKey = (conversationId: string, id: string) => `post/${conversationId}/${id}`;
const audienceKey = (id: string) => `audience/${id}`;

export async function getPost(ctx: ClientContext, conversationId: string, id: string) {
  const bytes = await ctx.repo.kv.get(postKey(conversationId, id));
  return bytes ? unjson<PostRecord>(bytes) : undefined;
}

/** Every post this device holds, in no particular order. */
export async function allPosts(ctx: ClientContext, conversationId?: string): Promise<PostRecord[]> {
  const rows = await ctx.repo.kv.list(conversationId ? `post/${conversationId}/` : "post/");
  return rows.map(([, v]) => unjson<PostRecord>(v));
}

export const putPost = (batch: Batch, p: PostRecord) => batch.put(postKey(p.conversationId, p.id), p);
export const deletePostRecord = (batch: Batch, p: PostRecord) =>
  batch.delete(postKey(p.conversationId, p.id));

export async function audiences(ctx: ClientContext): Promise<AudienceRecord[]> {
  return (await ctx.repo.kv.list("audience/")).map(([, v]) => unjson<AudienceRecord>(v));
}
export const putAudience = (batch: Batch, a: AudienceRecord) => batch.put(audienceKey(a.id), a);
export const deleteAudienceRecord = (batch: Batch, a: AudienceRecord) => batch.delete(audienceKey(a.id));
