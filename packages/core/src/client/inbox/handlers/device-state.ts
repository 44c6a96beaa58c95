/**
 * `device-state`: another device of ours says what it has read and that it is active (devices/
 * self-group.ts). Taken only in our devices' own group and only from our own identity; a read mark
 * only moves forward. Nothing is shown: read state and "last active" are what change.
 */
import { requireProfile } from "../../context.js";
import { reject } from "../rejection.js";
import { type ContentHandler, nothing } from "../types.js";

export const deviceState: ContentHandler<"device-state"> = {
  async group({ ctx, batch, conversation, sender, senderDevice, content, body }) {
    const profile = await requireProfile(ctx);
    if (!conversation.self || sender !== profile.identityPublicKey || !senderDevice) {
      return reject({
        reason: "misplaced",
        body: "device-state",
        conversation: "group",
        conversationId: conversation.id,
      });
    }
    for (const mark of body.read) {
      const c = await ctx.repo.conversation(mark.conversationId);
      if (!c) continue;
      // Its place in our history (a message's place depends a little on when each device got it).
      const upTo = (await ctx.repo.message(c.id, mark.messageId))?.key ?? mark.upTo;
      if (c.readUpTo !== undefined && c.readUpTo >= upTo) continue;
      ctx.repo.putConversation(batch, { ...c, readUpTo: upTo });
    }
    const devices = await ctx.repo.devices();
    const known = devices[senderDevice];
    if ((known?.lastActiveAt ?? 0) < content.sentAt) {
      const entry = known ?? { name: "", addedAt: content.sentAt };
      ctx.repo.putDevices(batch, { ...devices, [senderDevice]: { ...entry, lastActiveAt: content.sentAt } });
    }
    return nothing();
  },
};
