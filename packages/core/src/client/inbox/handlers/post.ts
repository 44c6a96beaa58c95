/**
 * `post`: a post from the feed group's owner (its one admin) goes into this device's feed, its
 * photos as file messages of the feed conversation (fetched only when asked). Anyone else's post is
 * dropped; one already past its expiry is not kept.
 */
import { PostId } from "../../../content/index.js";
import { person } from "../../lookup.js";
import { putImage } from "../../posts/publish.js";
import { getPost, type PostRecord, putPost } from "../../posts/store.js";
import { reject } from "../rejection.js";
import { type ContentHandler, nothing } from "../types.js";

export const post: ContentHandler<"post"> = {
  async group({ ctx, batch, conversation, sender, content, body }) {
    if (!conversation.admins.includes(sender))
      return reject({ reason: "not_post_owner", conversationId: conversation.id });
    // Its id becomes a local key (posts/store.ts): Parley's base64url ids only.
    if (!PostId.safeParse(content.id).success)
      return reject({ reason: "malformed", detail: "a post id is base64url" });
    if (body.text.length === 0 && body.images.length === 0)
      return reject({ reason: "empty_post", conversationId: conversation.id });
    if (body.expiresAt !== undefined && body.expiresAt <= ctx.now()) return nothing();
    if (await getPost(ctx, conversation.id, content.id)) return nothing(); // a copy we have
    const record: PostRecord = {
      v: 1,
      id: content.id,
      conversationId: conversation.id,
      author: sender,
      text: body.text,
      images: body.images.map((_, n) => `${content.id}.${n}`),
      sentAt: content.sentAt,
      receivedAt: ctx.now(),
      ...(body.expiresAt !== undefined ? { expiresAt: body.expiresAt } : {}),
      comments: [],
      likes: {},
    };
    putPost(batch, record);
    body.images.forEach((image, n) => {
      putImage(ctx, batch, record, n, sender, image);
    });
    return {
      events: [
        {
          type: "post",
          change: "posted",
          postId: content.id,
          by: await person(ctx, conversation.id, sender),
        },
      ],
      followups: [],
    };
  },
};
