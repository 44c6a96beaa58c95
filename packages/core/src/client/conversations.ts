/**
 * The conversation list, and the settings a person keeps per conversation on this device: muted (no
 * notifications for it) and archived (out of the main list). Neither is ever sent anywhere.
 *
 * Read receipts and typing indicators are chosen here too, per conversation (in a 1:1 chat, that
 * is per person): what this device sends, not what it shows.
 *
 * Archived means: archived at a time, and out of the main list until a message newer than that
 * arrives — then it is back, unless it is also muted (a muted, archived chat stays archived).
 */
import type { ConversationRecord } from "../store/records.js";
import { type ClientContext, requireProfile } from "./context.js";
import { findConversation } from "./lookup.js";
import type { ConversationView } from "./views.js";

/** Every conversation, direct and group, for a conversation list. */
export async function conversations(ctx: ClientContext): Promise<ConversationView[]> {
  const profile = await requireProfile(ctx);
  const contacts = new Map((await ctx.repo.contacts()).map((c) => [c.id, c]));
  const views: ConversationView[] = [];
  for (const c of await ctx.repo.conversations()) {
    if (c.kind === "direct") {
      if (c.supersededBy) continue; // its history is in the conversation that replaced it
      const contact = contacts.get(c.contactId);
      if (contact)
        views.push({
          id: c.id,
          kind: "direct",
          name: contact.name,
          canSend: !!c.sendTo,
          contactId: contact.id,
          ...(await settingsView(ctx, c)),
        });
      continue;
    }
    if (c.feed || c.self) continue; // posts, shown by the feed (posts/); our devices' own group
    const active = c.status === "active";
    // From the record, not the MLS state: a list must not decode every large group's tree.
    const isAdmin = active && c.admins.includes(profile.identityPublicKey);
    views.push({
      id: c.id,
      kind: "group",
      name: c.name,
      canSend: active,
      admin: isAdmin,
      status: c.status,
      ...(c.statusReason !== undefined ? { statusReason: c.statusReason } : {}),
      ...(await settingsView(ctx, c)),
    });
  }
  return views.sort((a, b) => a.name.localeCompare(b.name));
}

/** What a person may set per conversation, on this device. */
export interface ConversationSettings {
  muted?: boolean;
  archived?: boolean;
  /** Send read receipts (typing indicators) here; default on in 1:1 chats, off in groups. */
  readReceipts?: boolean;
  typingIndicators?: boolean;
}

/** Mutes or unmutes, archives or brings back a conversation, sets what it sends; returns its view. */
export async function setConversationSettings(
  ctx: ClientContext,
  nameOrId: string,
  change: ConversationSettings,
): Promise<ConversationView> {
  await requireProfile(ctx);
  const target = await findConversation(ctx, nameOrId);
  await ctx.lock.run(async () => {
    const current = await ctx.repo.conversation(target.id);
    if (!current) return;
    const next: ConversationRecord = { ...current };
    if (change.muted === true) next.muted = true;
    if (change.muted === false) delete next.muted;
    if (change.archived === true) next.archivedAt = ctx.now();
    if (change.archived === false) delete next.archivedAt;
    if (change.readReceipts !== undefined) next.readReceipts = change.readReceipts;
    if (change.typingIndicators !== undefined) next.typingIndicators = change.typingIndicators;
    await ctx.repo.commit(ctx.repo.putConversation(ctx.repo.batch(), next));
  });
  const view = (await conversations(ctx)).find((v) => v.id === target.id);
  if (!view) throw new Error(`conversation ${target.id} vanished while changing its settings`);
  return view;
}

async function settingsView(
  ctx: ClientContext,
  c: ConversationRecord,
): Promise<
  Pick<ConversationView, "muted" | "archived" | "readReceipts" | "typingIndicators" | "expireAfter">
> {
  const muted = c.muted === true;
  const signals = { readReceipts: sends(c, "readReceipts"), typingIndicators: sends(c, "typingIndicators") };
  const expireAfter = c.expireAfter ?? null;
  if (c.archivedAt === undefined) return { muted, archived: false, ...signals, expireAfter };
  const [newest] = await ctx.repo.messages(c.id, 1);
  const newer = newest !== undefined && (newest.receivedAt ?? newest.sentAt) > c.archivedAt;
  return { muted, archived: muted || !newer, ...signals, expireAfter };
}

/** Whether we send read receipts (typing indicators) here: as chosen, else on in 1:1 chats only. */
export const sends = (c: ConversationRecord, what: "readReceipts" | "typingIndicators"): boolean =>
  c[what] ?? c.kind === "direct";
