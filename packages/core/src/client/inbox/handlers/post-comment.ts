/** `post-comment`: onto the post it names, if this device has it (else dropped: before our time, or gone). */
import { person } from "../../lookup.js";
import { getPost, putPost } from "../../posts/store.js";
import { reject } from "../rejection.js";
import { type ContentHandler, nothing } from "../types.js";

export const postComment: ContentHandler<"post-comment"> = {
  async group({ ctx, batch, conversation, sender, content, body }) {
    const post = await getPost(ctx, conversation.id, body.post);
    if (!post) return reject({ reason: "unknown_post", conversationId: conversation.id });
    if (post.comments.some((c) => c.id === content.id)) return nothing();
    post.comments.push({ id: content.id, author: sender, text: body.text, sentAt: content.sentAt });
    putPost(batch, post);
    return {
      events: [
        { type: "post", change: "comment", postId: post.id, by: await person(ctx, conversation.id, sender) },
      ],
      followups: [],
    };
  },
};
