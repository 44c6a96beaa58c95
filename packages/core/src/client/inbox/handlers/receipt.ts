/** `receipt`: our messages it names are marked delivered (never moved backwards). */
import { type ContentHandler, nothing } from "../types.js";

export const receipt: ContentHandler<"receipt"> = {
  async direct({ ctx, batch, conversation, body }) {
    const delivered: string[] = [];
    for (const id of body.ids) {
      const m = await ctx.repo.message(conversation.id, id);
      if (m?.fromMe && m.status !== "delivered") {
        ctx.repo.putMessage(batch, { ...m, status: "delivered" });
        delivered.push(id);
      }
    }
    if (delivered.length === 0) return nothing();
    return {
      events: [{ type: "delivered", conversationId: conversation.id, ids: delivered }],
      followups: [],
    };
  },
};
