/**
 * Accepting a contact's changed identity key without comparing safety numbers (issue 13): sending
 * to a verified contact whose key changed stops until this, or until they are verified again. They
 * stay unverified; the change stays visible (keyChanged) until verified.
 */
import type { ClientContext } from "../context.js";
import { contactView, findContact } from "../lookup.js";
import type { ContactView } from "../views.js";

export async function acceptKeyChange(ctx: ClientContext, nameOrId: string): Promise<ContactView> {
  return ctx.lock.run(async () => {
    const { mustAccept: _accepted, ...contact } = await findContact(ctx, nameOrId);
    await ctx.repo.commit(ctx.repo.putContact(ctx.repo.batch(), contact));
    const conv = await ctx.repo.conversation(contact.conversationId);
    return contactView(contact, conv?.kind === "direct" ? conv : undefined);
  });
}
