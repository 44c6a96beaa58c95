/**
 * `profile`: the name a group member gives themselves in this group (kept in an encrypted value);
 * in a 1:1 chat, the contact's new display name, unless we gave them a name of our own.
 */
import { contactView } from "../../lookup.js";
import { uniqueName } from "../../names.js";
import { type ContentHandler, nothing } from "../types.js";

export const profile: ContentHandler<"profile"> = {
  async direct({ ctx, batch, conversation, contact, body }) {
    if (contact.ourName || contact.name === body.name) return nothing();
    const others = (await ctx.repo.contacts()).filter((c) => c.id !== contact.id).map((c) => c.name);
    const renamed = { ...contact, name: await uniqueName(others, body.name), named: true };
    if (renamed.name === contact.name) return nothing();
    ctx.repo.putContact(batch, renamed);
    return {
      events: [{ type: "contact", contact: contactView(renamed, conversation), change: "renamed" }],
      followups: [],
    };
  },
  async group({ ctx, batch, conversation, sender, body }) {
    await ctx.repo.putMemberName(batch, conversation.id, sender, body.name);
    return nothing();
  },
};
