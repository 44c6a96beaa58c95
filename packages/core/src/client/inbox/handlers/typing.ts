/** `typing`: the sender is writing, or stopped. Nothing is stored; the event is all there is. */
import { contactRef, historyIdOf, person } from "../../lookup.js";
import type { ContentHandler } from "../types.js";

export const typing: ContentHandler<"typing"> = {
  direct: async ({ conversation, contact, body }) => ({
    events: [
      {
        type: "typing",
        conversationId: historyIdOf(conversation),
        by: contactRef(contact),
        typing: body.typing,
      },
    ],
    followups: [],
  }),
  group: async ({ ctx, conversation, sender, body }) => ({
    events: [
      {
        type: "typing",
        conversationId: conversation.id,
        by: await person(ctx, conversation.id, sender),
        typing: body.typing,
      },
    ],
    followups: [],
  }),
};
