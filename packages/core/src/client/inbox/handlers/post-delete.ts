/** `post-delete`: the post's author deletes it; it leaves this device's store with its comments and photos. */
import { person } from "../../lookup.js";
import { forgetPost } from "../../posts/forget.js";
import { getPost } from "../../posts/store.js";
import { reject } from "../rejection.js";
import { type ContentHandler, nothing } from "../types.js";

export const postDelete: ContentHandler<"post-delete"> = {
  async group({ ctx, batch, conversation, sender, body }) {
    const post = await getPost(ctx, conversation.id, body.post);
    if (!post) return nothing(); // expired here already, or deleted twice
    if (post.author !== sender) return reject({ reason: "not_post_owner", conversationId: conversation.id });
    await forgetPost(ctx, batch, post);
    return {
      events: [
        { type: "post", change: "deleted", postId: post.id, by: await person(ctx, conversation.id, sender) },
      ],
      followups: [],
    };
  },
};
