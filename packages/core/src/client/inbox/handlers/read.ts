/** `read`: a read receipt — our messages it names are marked read by its sender. */
import type { Batch } from "../../../store/batch.js";
import type { ConversationRecord } from "../../../store/records.js";
import type { ClientContext } from "../../context.js";
import { contactRef, person } from "../../lookup.js";
import type { PersonRef } from "../../views.js";
import { type ContentHandler, nothing, type Processed } from "../types.js";

export const read: ContentHandler<"read"> = {
  direct: ({ ctx, batch, conversation, contact, body }) =>
    markReadBy(ctx, batch, conversation, contactRef(contact), body.ids),
  group: async ({ ctx, batch, conversation, sender, body }) =>
    markReadBy(ctx, batch, conversation, await person(ctx, conversation.id, sender), body.ids),
};

async function markReadBy(
  ctx: ClientContext,
  batch: Batch,
  conversation: ConversationRecord,
  by: PersonRef,
  ids: string[],
): Promise<Processed> {
  const read: string[] = [];
  for (const id of new Set(ids)) {
    const m = await ctx.repo.message(conversation.id, id);
    if (!m?.fromMe || m.deleted !== undefined || m.readBy?.[by.identityKey] !== undefined) continue;
    // Read means delivered too, should the delivery receipt still be on its way.
    const status = m.status === "sent" ? "delivered" : m.status;
    ctx.repo.putMessage(batch, { ...m, status, readBy: { ...m.readBy, [by.identityKey]: ctx.now() } });
    read.push(id);
  }
  if (read.length === 0) return nothing();
  return { events: [{ type: "read", conversationId: conversation.id, ids: read, by }], followups: [] };
}
