/** Contacts: listing, safety numbers, verification, our own names for them, and making a new one. */
import { ParleyError } from "../errors.js";
import { safetyNumber as computeSafetyNumber } from "../identity/safety-number.js";
import type { Batch } from "../store/batch.js";
import type { ContactRecord } from "../store/records.js";
import { unb64 } from "../store/repository.js";
import { type ClientContext, randomId, requireProfile } from "./context.js";
import { contactView, findContact } from "./lookup.js";
import { parseName, uniqueName } from "./names.js";
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
    const { mustAccept: _accepted, ...found } = await findContact(ctx, nameOrId);
    const contact = { ...found, verified: true, keyChanged: false };
    await ctx.repo.commit(ctx.repo.putContact(ctx.repo.batch(), contact));
    const conv = await ctx.repo.conversation(contact.conversationId);
    return contactView(contact, conv?.kind === "direct" ? conv : undefined);
  });
}

/**
 * Our own name for a contact, instead of the one they chose (theirs no longer replaces it). Two
 * contacts cannot share a name: every command finds people by name.
 */
export async function renameContact(
  ctx: ClientContext,
  nameOrId: string,
  newName: string,
): Promise<ContactView> {
  const name = parseName(newName);
  return ctx.lock.run(async () => {
    const contact = await findContact(ctx, nameOrId);
    const taken = (await ctx.repo.contacts()).find(
      (c) => c.id !== contact.id && c.name.toLowerCase() === name.toLowerCase(),
    );
    if (taken) throw new ParleyError("name_taken", { name });
    const renamed: ContactRecord = { ...contact, name, named: true, ourName: true };
    await ctx.repo.commit(ctx.repo.putContact(ctx.repo.batch(), renamed));
    const conv = await ctx.repo.conversation(renamed.conversationId);
    return contactView(renamed, conv?.kind === "direct" ? conv : undefined);
  });
}

/**
 * Blocks or unblocks a contact. What a blocked contact writes — messages, files, reactions, edits,
 * group invites — is dropped on arrival without a receipt, in our chat with them and in groups
 * (their group messages are not shown); they are not told, and to them we look like someone who
 * has not been online. We cannot write to them until we unblock. Their MLS messages are still
 * processed, so our chat and groups stay in step and unblocking needs nothing more.
 */
export async function blockContact(
  ctx: ClientContext,
  nameOrId: string,
  blocked: boolean,
): Promise<ContactView> {
  return ctx.lock.run(async () => {
    const contact: ContactRecord = { ...(await findContact(ctx, nameOrId)) };
    if (blocked) contact.blocked = true;
    else delete contact.blocked;
    await ctx.repo.commit(ctx.repo.putContact(ctx.repo.batch(), contact));
    const conv = await ctx.repo.conversation(contact.conversationId);
    return contactView(contact, conv?.kind === "direct" ? conv : undefined);
  });
}

/**
 * The contact record for `identityKey` in conversation `conversationId` (not stored yet). Someone we
 * already know stays the one contact they were (name, verification, when added), now in the new
 * conversation; `supersedeConversation` moves the old one's history over (issue 14: a second invite
 * between the same two people made "Alice (2)" with the same safety number).
 */
export async function newContact(
  ctx: ClientContext,
  identityKey: string,
  name: string,
  named: boolean,
  conversationId: string,
): Promise<{ contact: ContactRecord; previousConversationId?: string }> {
  const all = await ctx.repo.contacts();
  const existing = all.find((c) => c.identityKey === identityKey);
  if (existing) {
    return {
      contact: { ...existing, conversationId, keyChanged: false },
      previousConversationId: existing.conversationId,
    };
  }
  const contact: ContactRecord = {
    id: randomId(ctx, 12),
    name: await uniqueName(
      all.map((c) => c.name),
      name,
    ),
    named,
    identityKey,
    conversationId,
    verified: false,
    keyChanged: false,
    addedAt: ctx.now(),
  };
  return { contact };
}

/**
 * The contact's earlier 1:1 conversation, replaced by `next`: its history moves to `next` (in the
 * same batch), and it stays only to receive what the contact sent there before they switched
 * (stored in `next` too, inbox/history.ts). It leaves every list. The caller holds the lock.
 */
export async function supersedeConversation(
  ctx: ClientContext,
  batch: Batch,
  previousId: string,
  next: string,
): Promise<void> {
  if (previousId === next) return;
  const previous = await ctx.repo.conversation(previousId);
  if (previous?.kind !== "direct") return;
  for (const m of await ctx.repo.messages(previousId, Number.MAX_SAFE_INTEGER)) {
    ctx.repo.deleteMessage(batch, m);
    ctx.repo.putMessage(batch, { ...m, conversationId: next });
  }
  ctx.repo.putConversation(batch, { ...previous, supersededBy: next });
}
