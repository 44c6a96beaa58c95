/**
 * `post-comment`, in a feed group: a comment on one of the group's posts, seen by the post's
 * audience (the group's members) and nobody else (docs/04-posts.md, "Who sees a comment").
 */
import { z } from "zod";
import { textSchema } from "../messaging/text-length.js";
import { PostId } from "./post.js";

export const MAX_COMMENT_LENGTH = 2_000;

export const PostCommentBody = z.object({
  type: z.literal("post-comment"),
  post: PostId,
  text: textSchema(1, MAX_COMMENT_LENGTH),
});
export type PostCommentBody = z.infer<typeof PostCommentBody>;
