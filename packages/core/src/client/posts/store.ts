/**
 * What the feed keeps on a device (docs/04-posts.md): one record per post, with its comments and
 * likes inside it, under `post/<feed conversation id>/<post id>`; the author's audiences under
 * `audience/<id>`. Keys hold local ids and post ids only (base64url), never a name or text
 * (store/keys.ts). A post's photos are file messages of the feed conversation's history, so that
 * fetching, checking and deleting them is the file pipeline's (client/files/).
 */

import type { Batch } from "../../store/batch.js";
import { unjson } from "../../store/batch.js";
import { Keys as K } from "../../store/keys.js";
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
  /**
   * Who was in the feed group (identity keys, without us) at an MLS epoch: while the group is still
   * at that epoch, a post need not decode the group's state to know its members.
   */
  snapshot?: { epoch: string; identities: string[] };
  /**
   * The contacts revision (ProfileRepository.contactsRevision) and MLS epoch at which the feed group
   * was last brought in line with the audience: while both stay, a post reads no contact. Dropped
   * whenever the chosen members change.
   */
  reconciled?: { contacts: string; epoch: string };
  createdAt: number;
}

const time = (ms: number) => Math.max(0, Math.floor(ms)).toString().padStart(15, "0");
/**
 * Where a post stands in the feed: its author's time, but never later than it reached us (a friend
 * whose clock runs ahead cannot pin a post to the top). The feed lists this index newest first, so
 * opening it reads one screen of posts, not all of them.
 */
const orderKey = (p: PostRecord) =>
  K.postOrder(time(Math.min(p.sentAt, p.receivedAt)), p.conversationId, p.id);
/** Posts that vanish, by the time they do: the purge reads only those due. */
const expiryKey = (p: PostRecord, at: number) => K.postExpiry(time(at), p.conversationId, p.id);

export async function getPost(ctx: ClientContext, conversationId: string, id: string) {
  const bytes = await ctx.repo.kv.get(K.post(conversationId, id));
  return bytes ? unjson<PostRecord>(bytes) : undefined;
}

/** Every post this device holds, in no particular order. */
export async function allPosts(ctx: ClientContext, conversationId?: string): Promise<PostRecord[]> {
  const rows = await ctx.repo.kv.list(K.posts(conversationId));
  return rows.map(([, v]) => unjson<PostRecord>(v));
}

/** Stores a post (new, or with a new comment or like) and its place in the order and expiry indexes. */
export function putPost(batch: Batch, p: PostRecord): void {
  const where = { conversationId: p.conversationId, id: p.id };
  batch.put(K.post(p.conversationId, p.id), p).put(orderKey(p), where);
  if (p.expiresAt !== undefined) batch.put(expiryKey(p, p.expiresAt), where);
}

export function deletePostRecord(batch: Batch, p: PostRecord): void {
  batch.delete(K.post(p.conversationId, p.id)).delete(orderKey(p));
  if (p.expiresAt !== undefined) batch.delete(expiryKey(p, p.expiresAt));
}

type Where = { conversationId: string; id: string };
async function postsAt(ctx: ClientContext, rows: [string, Uint8Array][]): Promise<PostRecord[]> {
  const wheres = rows.map(([, v]) => unjson<Where>(v));
  const posts = await Promise.all(wheres.map((w) => getPost(ctx, w.conversationId, w.id)));
  return posts.filter((p): p is PostRecord => p !== undefined);
}

/** The newest `limit` posts, newest first, from the order index. */
export async function newestPosts(ctx: ClientContext, limit: number): Promise<PostRecord[]> {
  return postsAt(ctx, await ctx.repo.kv.list(K.postOrders, { reverse: true, limit }));
}

/** Posts whose time to vanish has come. */
export async function duePosts(ctx: ClientContext, now: number): Promise<PostRecord[]> {
  const due = (await ctx.repo.kv.list(K.postExpiries)).filter(
    ([k]) => k.slice(K.postExpiries.length).slice(0, 15) <= time(now),
  );
  return postsAt(ctx, due);
}

export async function audiences(ctx: ClientContext): Promise<AudienceRecord[]> {
  return (await ctx.repo.kv.list(K.audiences)).map(([, v]) => unjson<AudienceRecord>(v));
}
export const putAudience = (batch: Batch, a: AudienceRecord) => batch.put(K.audience(a.id), a);
export const deleteAudienceRecord = (batch: Batch, a: AudienceRecord) => batch.delete(K.audience(a.id));
