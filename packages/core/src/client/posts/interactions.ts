/**
 * Comments and likes (docs/04-posts.md, "Who sees a comment"): they go into the post's feed group,
 * so the post's audience — and only it — sees them, whether or not they are the commenter's
 * contacts. The relay sees one more padded message on a queue, like a post or any other.
 */
import { MAX_COMMENT_LENGTH } from "../../content/index.js";
import { ParleyError } from "../../errors.js";
import { type ClientContext, randomId, requireProfile } from "../context.js";
import { requireWithinLength } from "../length.js";
import { findPost, type PostView, postView } from "./feed.js";
import { sendToFeed } from "./send.js";
import { getPost, putPost } from "./store.js";

export async function commentOnPost(ctx: ClientContext, postId: string, text: string): Promise<PostView> {
  const profile = await requireProfile(ctx);
  if (text.trim().length === 0) throw new ParleyError("empty", { what: "text" });
  requireWithinLength(text, MAX_COMMENT_LENGTH);
  const post = await findPost(ctx, postId);
  const id = randomId(ctx);
  await sendToFeed(
    ctx,
    post.conversationId,
    { type: "post-comment", post: post.id, text },
    id,
    post.id,
    async (b) => {
      const current = (await getPost(ctx, post.conversationId, post.id)) ?? post;
      current.comments.push({ id, author: profile.identityPublicKey, text, sentAt: ctx.now() });
      putPost(b, current);
    },
  );
  return postView(ctx, (await getPost(ctx, post.conversationId, post.id)) ?? post);
}

/** Likes a post (`on`), or takes our like back. */
export async function likePost(ctx: ClientContext, postId: string, on: boolean): Promise<PostView> {
  const profile = await requireProfile(ctx);
  const post = await findPost(ctx, postId);
  await sendToFeed(
    ctx,
    post.conversationId,
    { type: "post-like", post: post.id, on },
    randomId(ctx),
    post.id,
    async (b) => {
      const current = (await getPost(ctx, post.conversationId, post.id)) ?? post;
      if (on) current.likes[profile.identityPublicKey] = ctx.now();
      else delete current.likes[profile.identityPublicKey];
      putPost(b, current);
    },
  );
  return postView(ctx, (await getPost(ctx, post.conversationId, post.id)) ?? post);
}
