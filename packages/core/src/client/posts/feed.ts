/**
 * The feed as a person sees it (docs/04-posts.md): every post this device holds — friends' and our
 * own — newest first, with their comments and likes, photos as file views. Posts past their
 * expiry are dropped from the store first (ours: their photos' blobs deleted from the relay too).
 */
import { ParleyError } from "../../errors.js";
import type { ProfileRecord } from "../../store/records.js";
import { type ClientContext, requireProfile } from "../context.js";
import { fileView, findContact, person } from "../lookup.js";
import type { FileView, PersonRef } from "../views.js";
import { deleteImageBlobs, forgetPost } from "./forget.js";
import { allPosts, audiences, duePosts, newestPosts, type PostRecord } from "./store.js";

export interface CommentView {
  id: string;
  author: PersonRef;
  text: string;
  sentAt: string; // ISO 8601
}

export interface PostView {
  id: string;
  author: PersonRef;
  mine: boolean;
  text: string;
  /** Its photos, as file views: fetch one with getFile(id). */
  images: FileView[];
  sentAt: string; // ISO 8601
  expiresAt: string | null;
  /** Our own post: the audience it went to (a name only we know). */
  audience: string | null;
  comments: CommentView[];
  likes: PersonRef[];
  likedByMe: boolean;
}

export interface FeedOptions {
  /** Only this contact's posts (a name or id), or ours with "me". */
  from?: string;
  limit?: number;
}

/** Names people once per feed: a feed of 10,000 comments names a few dozen people. */
function personCache(ctx: ClientContext, profile: ProfileRecord) {
  const known = new Map<string, Promise<PersonRef>>();
  return (conversationId: string, identityKey: string) => {
    const key = `${conversationId}/${identityKey}`;
    let ref = known.get(key);
    if (!ref) {
      ref = person(ctx, conversationId, identityKey, profile);
      known.set(key, ref);
    }
    return ref;
  };
}

export async function feed(ctx: ClientContext, options: FeedOptions = {}): Promise<PostView[]> {
  const profile = await requireProfile(ctx);
  await purgeExpired(ctx);
  let author: string | undefined;
  if (options.from !== undefined)
    author =
      options.from.toLowerCase() === "me"
        ? profile.identityPublicKey
        : (await findContact(ctx, options.from)).identityKey;
  const limit = options.limit ?? 1000;
  // One screen of posts from the order index; one author's posts from a scan of all.
  const posts =
    author === undefined
      ? await newestPosts(ctx, limit)
      : (await allPosts(ctx))
          .filter((p) => p.author === author)
          .sort((a, b) => Math.min(b.sentAt, b.receivedAt) - Math.min(a.sentAt, a.receivedAt))
          .slice(0, limit);
  const names = personCache(ctx, profile);
  const audienceNames = new Map((await audiences(ctx)).map((a) => [a.conversationId, a.name]));
  return Promise.all(posts.map((p) => postView(ctx, p, { profile, names, audienceNames })));
}

export async function postView(
  ctx: ClientContext,
  p: PostRecord,
  cached?: {
    profile: ProfileRecord;
    names: ReturnType<typeof personCache>;
    audienceNames: Map<string, string>;
  },
): Promise<PostView> {
  const profile = cached?.profile ?? (await requireProfile(ctx));
  const names = cached?.names ?? personCache(ctx, profile);
  const audienceNames =
    cached?.audienceNames ?? new Map((await audiences(ctx)).map((a) => [a.conversationId, a.name]));
  const images: FileView[] = [];
  for (const id of p.images) {
    const m = await ctx.repo.message(p.conversationId, id);
    if (m?.file) images.push(fileView(id, m.file));
  }
  const mine = p.author === profile.identityPublicKey;
  return {
    id: p.id,
    author: await names(p.conversationId, p.author),
    mine,
    text: p.text,
    images,
    sentAt: new Date(p.sentAt).toISOString(),
    expiresAt: p.expiresAt !== undefined ? new Date(p.expiresAt).toISOString() : null,
    audience: mine ? (audienceNames.get(p.conversationId) ?? null) : null,
    comments: await Promise.all(
      p.comments.map(async (c) => ({
        id: c.id,
        author: await names(p.conversationId, c.author),
        text: c.text,
        sentAt: new Date(c.sentAt).toISOString(),
      })),
    ),
    likes: await Promise.all(Object.keys(p.likes).map((k) => names(p.conversationId, k))),
    likedByMe: profile.identityPublicKey in p.likes,
  };
}

/** A post by its id or an unambiguous prefix of it (at least 4 characters). */
export async function findPost(ctx: ClientContext, id: string): Promise<PostRecord> {
  const wanted = id.replace(/^#/, "");
  const posts = await allPosts(ctx);
  const exact = posts.find((p) => p.id === wanted);
  if (exact) return exact;
  const prefixed = wanted.length >= 4 ? posts.filter((p) => p.id.startsWith(wanted)) : [];
  if (prefixed.length > 1) throw new ParleyError("ambiguous_post", { id });
  if (prefixed.length === 0) throw new ParleyError("unknown_post", { id });
  return prefixed[0]!;
}

/**
 * Drops every post past its expiry from this device; for our own, deletes their photos' blobs from
 * the relay first (a relay that cannot be reached now: the next purge tries again).
 */
export async function purgeExpired(ctx: ClientContext): Promise<number> {
  const profile = await requireProfile(ctx);
  const expired = await duePosts(ctx, ctx.now());
  let dropped = 0;
  for (const post of expired) {
    if (post.author === profile.identityPublicKey) {
      try {
        await deleteImageBlobs(ctx, post);
      } catch {
        continue; // kept until its blobs are gone: tried again at the next purge
      }
    }
    await ctx.lock.run(async () => {
      const batch = ctx.repo.batch();
      await forgetPost(ctx, batch, post);
      await ctx.repo.commit(batch);
    });
    dropped++;
  }
  return dropped;
}
