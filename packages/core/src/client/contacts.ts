/** Contacts: listing, safety numbers, verification, and making a new one. */
import { safetyNumber as computeSafetyNumber } from "../identity/safety-number.js";
import type { ContactRecord } from "../store/records.js";
import { unb64 } from "../store/repository.js";
import { type ClientContext, randomId, requireProfile } from "./context.js";
import { contactView, findContact } from "./lookup.js";
import { uniqueName } from "./names.js";
import type { ContactView } from "./views.js";

export async function contacts(ctx: ClientContext): Promise<ContactView[]> {
  await requireProfile(ctx);
  const views: ContactView[] = [];
  for (const c of await ctx.repo.contacts()) {
    const conv = await ctx.repo.conversation(c.conversationId);
    if (conv?.kind === "direct") views.push(contactView(c, conv));
  }
  return views.sort((a, b) => a.name.localeCompare(b.name));
}

export async function safetyNumber(
  ctx: ClientContext,
  nameOrId: string,
): Promise<{ contact: string; safetyNumber: string; verified: boolean }> {
  const profile = await requireProfile(ctx);
  const contact = await findContact(ctx, nameOrId);
  const digits = await computeSafetyNumber(
    ctx.crypto,
    unb64(profile.identityPublicKey),
    unb64(contact.identityKey),
  );
  return { contact: contact.name, safetyNumber: digits, verified: contact.verified };
}

/** Marks a contact's current identity key as checked in person (clears a key-change warning). */
export async function verifyContact(ctx: ClientContext, nameOrId: string): Promise<ContactView> {
  return ctx.lock.run(async () => {
    const contact = { ...(await findContact(ctx, nameOrId)), verified: true, keyChanged: false };
    await ctx.repo.commit(ctx.repo.putContact(ctx.repo.batch(), contact));
    const conv = await ctx.repo.conversation(contact.conversationId);
    return contactView(contact, conv?.kind === "direct" ? conv : undefined);
  });
}

/** A new contact record (not stored yet); someone we already knew keeps what we had verified. */
export async function newContact(
  ctx: ClientContext,
  identityKey: string,
  name: string,
  named: boolean,
  conversationId: string,
): Promise<ContactRecord> {
  const all = await ctx.repo.contacts();
  const existing = all.find((c) => c.identityKey === identityKey);
  return {
    id: randomId(ctx, 12),
    name: await uniqueName(
      all.map((c) => c.name),
      name,
    ),
    named,
    identityKey,
    conversationId,
    verified: existing?.verified ?? false,
    keyChanged: false,
    addedAt: ctx.now(),
  };
}
