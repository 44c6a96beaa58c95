/** `post-delete`, in a feed group: its owner deletes a post (with its comments and likes) everywhere. */
import { z } from "zod";
import { PostId } from "./post.js";

export const PostDeleteBody = z.object({ type: z.literal("post-delete"), post: PostId });
export type PostDeleteBody = z.infer<typeof PostDeleteBody>;
