/** `post-like`: the sender's like on a post this device has, or its withdrawal (the later one wins). */
import { person } from "../../lookup.js";
import { getPost, putPost } from "../../posts/store.js";
import { reject } from "../rejection.js";
import type { ContentHandler } from "../types.js";

export const postLike: ContentHandler<"post-like"> = {
  async group({ ctx, batch, conversation, sender, content, body }) {
    const post = await getPost(ctx, conversation.id, body.post);
    if (!post) return reject({ reason: "unknown_post", conversationId: conversation.id });
    if (body.on) post.likes[sender] = content.sentAt;
    else delete post.likes[sender];
    putPost(batch, post);
    return {
      events: [
        { type: "post", change: "like", postId: post.id, by: await person(ctx, conversation.id, sender) },
      ],
      followups: [],
    };
  },
};
