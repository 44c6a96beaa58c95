/** `intro`: the contact's name (unless we named them already) and where to answer them. */
import { KEY_PACKAGE_STOCK } from "../../key-packages.js";
import { contactView } from "../../lookup.js";
import { uniqueName } from "../../names.js";
import type { ContentHandler } from "../types.js";

export const intro: ContentHandler<"intro"> = {
  async direct({ ctx, batch, conversation, contact, body }) {
    const all = (await ctx.repo.contacts()).map((c) => c.name);
    const renamed = {
      ...contact,
      name: contact.named ? contact.name : await uniqueName(all, body.name),
      named: true,
    };
    const updated = { ...conversation, sendTo: body.replyTo };
    ctx.repo.putContact(batch, renamed);
    ctx.repo.putConversation(batch, updated);
    return {
      events: [{ type: "contact", contact: contactView(renamed, updated), change: "added" }],
      followups: [
        { kind: "key-packages", conversationId: conversation.id, count: KEY_PACKAGE_STOCK },
        { kind: "profile-photo", conversationId: conversation.id },
      ],
    };
  },
};
