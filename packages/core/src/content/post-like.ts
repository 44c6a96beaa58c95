/** `post-like`, in a feed group: the sender likes one of the group's posts (`on`), or no longer does. */
import { z } from "zod";
import { PostId } from "./post.js";

export const PostLikeBody = z.object({ type: z.literal("post-like"), post: PostId, on: z.boolean() });
export type PostLikeBody = z.infer<typeof PostLikeBody>;
