/**
 * `group-link`: an admin made or revoked the group's invite link. Our devices keep it when we are
 * an admin too, and read its join queue from then on: any admin online sees the requests and may
 * answer them (client/group-links/). A member who is not an admin keeps nothing of it.
 */
import { decodeGroupMetadata, isAdmin } from "../../../messaging/group-metadata.js";
import { deleteGroupLink, putGroupLink, groupLink as storedLink } from "../../../store/group-links.js";
import { Keys } from "../../../store/keys.js";
import { requireProfile } from "../../context.js";
import { reject } from "../rejection.js";
import { type ContentHandler, nothing } from "../types.js";

export const groupLink: ContentHandler<"group-link"> = {
  async group({ ctx, batch, conversation, state, sender, body, content }) {
    const meta = decodeGroupMetadata(ctx.engine.metadata(state));
    if (!isAdmin(meta, sender)) {
      reject({ reason: "malformed", detail: "a group link shared by a member who is not an admin" });
    }
    const profile = await requireProfile(ctx);
    if (!isAdmin(meta, profile.identityPublicKey)) return nothing();
    const earlier = await storedLink(ctx.repo, conversation.id);
    if (earlier) {
      deleteGroupLink(batch, conversation.id);
      batch.delete(Keys.route(earlier.queue.queueId));
    }
    if (body.link === null) return nothing();
    const { expiresAt, ...link } = body.link;
    putGroupLink(batch, {
      conversationId: conversation.id,
      ...link,
      ...(expiresAt === undefined ? {} : { expiresAt }),
      createdAt: content.sentAt,
    });
    ctx.repo.putRoute(batch, link.queue.queueId, { kind: "group-link", conversationId: conversation.id });
    return nothing();
  },
};
