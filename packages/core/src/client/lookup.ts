/** Finding contacts, conversations and groups by name or id; naming people for views. */
import { ParleyError } from "../errors.js";
import { assessFile } from "../files/detect.js";
import type {
  ContactRecord,
  ConversationRecord,
  DirectConversationRecord,
  FileRecord,
  GroupConversationRecord,
  MessageRecord,
  ProfileRecord,
} from "../store/records.js";
import { type ClientContext, requireProfile } from "./context.js";
import type { ContactView, FileView, MessageView, PersonRef } from "./views.js";

/**
 * The conversation whose history holds this one's messages: itself, or the later conversation with
 * the same person that replaced it (contacts.ts, `supersedeConversation`).
 */
export const historyIdOf = (c: ConversationRecord): string => (c.kind === "direct" && c.supersededBy) || c.id;

/** Exact (case-insensitive) name first, else an unambiguous prefix. */
export function pickByName<T>(items: T[], wanted: string, nameOf: (t: T) => string): T | undefined {
  const w = wanted.trim().toLowerCase();
  const exact = items.find((i) => nameOf(i).toLowerCase() === w);
  if (exact) return exact;
  const prefixed = items.filter((i) => nameOf(i).toLowerCase().startsWith(w));
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

/**
 * The id a "#"-marked argument names, if it is one. Ids are base64url, so one in 64 starts with "-"
 * and a command line would read it as an option; the CLI marks such an argument "#-…"
 * (cli/src/dash-ids.ts), as it does message and file ids. A name that starts with "#" ("#general")
 * is still a name: the marked id is only taken when a record has it.
 */
const markedId = (nameOrId: string): string | undefined =>
  nameOrId.startsWith("#") ? nameOrId.slice(1) : undefined;

async function byMarkedId<T>(
  nameOrId: string,
  read: (id: string) => Promise<T | undefined>,
): Promise<T | undefined> {
  const id = markedId(nameOrId);
  return id ? read(id) : undefined;
}

/** Finds a contact by name (case-insensitive, or an unambiguous prefix) or id ("#" in front allowed). */
export async function findContact(ctx: ClientContext, nameOrId: string): Promise<ContactRecord> {
  // By id, one read: adding 5,000 contacts to a group (an audience, docs/04-posts.md) looked each
  // one up in the list of all 5,000.
  const byId =
    (await ctx.repo.contact(nameOrId)) ?? (await byMarkedId(nameOrId, (id) => ctx.repo.contact(id)));
  if (byId) return byId;
  const all = await ctx.repo.contacts();
  const match = all.find((c) => c.id === nameOrId) ?? pickByName(all, nameOrId, (c) => c.name);
  if (!match) throw new ParleyError("unknown_contact", { name: nameOrId, groups: false });
  return match;
}

/**
 * A contact's conversation or a group, by name or id ("#" in front allowed). A name both a contact
 * and a group have is ambiguous.
 */
export async function findConversation(ctx: ClientContext, nameOrId: string): Promise<ConversationRecord> {
  // By id, one read (every send looks its conversation up again by id, findContact does the same).
  const direct =
    (await ctx.repo.conversation(nameOrId)) ??
    (await byMarkedId(nameOrId, (id) => ctx.repo.conversation(id)));
  if (direct) return direct;
  const all = await ctx.repo.conversations();
  const contacts = new Map((await ctx.repo.contacts()).map((c) => [c.id, c]));
  // A replaced 1:1 conversation answers to its id only: its contact's name means the current one.
  // A feed group (posts/) answers to its id only: it is not a chat.
  const named = all
    .filter((c) => historyIdOf(c) === c.id && !(c.kind === "group" && (c.feed || c.self)))
    .map((c) => ({
      c,
      name: c.kind === "group" ? c.name : (contacts.get(c.contactId)?.name ?? ""),
    }));
  const wanted = nameOrId.trim().toLowerCase();
  const exact = named.filter((n) => n.name.toLowerCase() === wanted);
  const candidates = exact.length ? exact : named.filter((n) => n.name.toLowerCase().startsWith(wanted));
  if (candidates.length === 1) return candidates[0]!.c;
  if (candidates.length > 1) throw new ParleyError("ambiguous", { name: nameOrId });
  throw new ParleyError("unknown_contact", { name: nameOrId, groups: true });
}

/** A group we are an active member of, by name or id ("#" in front allowed). */
export async function findGroup(ctx: ClientContext, nameOrId: string): Promise<GroupConversationRecord> {
  const all = (await ctx.repo.conversations()).filter((c) => c.kind === "group");
  const chats = all.filter((c) => !c.feed && !c.self); // a feed group answers to its id only
  const marked = markedId(nameOrId);
  const match =
    all.find((c) => c.id === nameOrId) ??
    (marked ? all.find((c) => c.id === marked) : undefined) ??
    pickByName(chats, nameOrId, (c) => c.name);
  if (!match) throw new ParleyError("unknown_group", { name: nameOrId });
  requireActive(match);
  return match;
}

export function requireActive(c: GroupConversationRecord): void {
  if (c.status === "needs-readd")
    throw new ParleyError("needs_readd", { group: c.name, reason: c.statusReason ?? "" });
  if (c.status !== "active") throw new ParleyError("not_member", { group: c.name });
}

export async function requireConversation(ctx: ClientContext, id: string): Promise<ConversationRecord> {
  const c = await ctx.repo.conversation(id);
  if (!c) throw new ParleyError("unknown_conversation", { id });
  return c;
}

export async function requireGroupConversation(
  ctx: ClientContext,
  id: string,
): Promise<GroupConversationRecord> {
  const c = await requireConversation(ctx, id);
  if (c.kind !== "group") throw new ParleyError("unknown_group", { name: id });
  return c;
}

/** The conversation whose current receive queue this is (not one it moved away from), if any. */
export async function conversationReceivingOn(
  ctx: ClientContext,
  queueId: string,
): Promise<ConversationRecord | undefined> {
  const route = await ctx.repo.route(queueId);
  if (route?.kind !== "conversation") return undefined;
  const conversation = await ctx.repo.conversation(route.conversationId);
  return conversation?.receive.queueId === queueId ? conversation : undefined;
}

/** The conversation (direct or group, in any status) whose MLS group has this id, if any. */
export async function conversationOfGroup(
  ctx: ClientContext,
  groupId: string,
): Promise<ConversationRecord | undefined> {
  return (await ctx.repo.conversations()).find((c) => c.groupId === groupId);
}

/**
 * A person as this device knows them: us, a contact (our name for them), or a group member who is
 * not a contact (the name they gave this group, if any).
 */
export async function person(
  ctx: ClientContext,
  conversationId: string | undefined,
  identityKey: string,
  profile?: ProfileRecord,
): Promise<PersonRef> {
  const self = profile ?? (await requireProfile(ctx));
  if (identityKey === self.identityPublicKey) return { identityKey, name: self.name, relation: "me" };
  const contact = (await ctx.repo.contacts()).find(
    (c) => c.identityKey === identityKey || c.previousIdentityKeys?.includes(identityKey),
  );
  if (contact) return { identityKey, name: contact.name, relation: "contact" };
  const chosen = conversationId ? await ctx.repo.memberName(conversationId, identityKey) : undefined;
  return { identityKey, name: chosen ?? null, relation: "member" };
}

/** person() for many lookups in one conversation (a page of history), with what it reads read once. */
export interface People {
  profile: ProfileRecord;
  of(identityKey: string): PersonRef;
}

/**
 * Every contact and the group's member names read once: person() reads them for each lookup, and a
 * page of 1,000 messages in a group of 500 parsed its member names 1,000 times (the chaos bench,
 * listing every member's history, spent more time there than on the group's MLS).
 */
export async function peopleOf(ctx: ClientContext, conversationId: string): Promise<People> {
  const profile = await requireProfile(ctx);
  // The contact person() finds: the first one, in list order, with this key as its current or an
  // earlier identity key.
  const contacts = new Map<string, ContactRecord>();
  for (const c of await ctx.repo.contacts())
    for (const key of [c.identityKey, ...(c.previousIdentityKeys ?? [])])
      if (!contacts.has(key)) contacts.set(key, c);
  const names = await ctx.repo.memberNames(conversationId);
  return {
    profile,
    of(identityKey) {
      if (identityKey === profile.identityPublicKey)
        return { identityKey, name: profile.name, relation: "me" };
      const contact = contacts.get(identityKey);
      if (contact) return { identityKey, name: contact.name, relation: "contact" };
      return { identityKey, name: names[identityKey] ?? null, relation: "member" };
    },
  };
}

export const contactRef = (c: ContactRecord): PersonRef => ({
  identityKey: c.identityKey,
  name: c.name,
  relation: "contact",
});

export function contactView(c: ContactRecord, conv: DirectConversationRecord | undefined): ContactView {
  return {
    id: c.id,
    name: c.name,
    identityKey: c.identityKey,
    verified: c.verified,
    keyChanged: c.keyChanged,
    mustAccept: c.mustAccept === true,
    conversationId: c.conversationId,
    canSend: !!conv?.sendTo && c.blocked !== true && c.mustAccept !== true,
    blocked: c.blocked === true,
    photo: c.photo ?? null,
  };
}

export function fileView(id: string, f: FileRecord): FileView {
  const claimed = f.checked ?? assessFile(f.name, f.mime, f.detected ?? null);
  return {
    id,
    name: f.name,
    size: f.size,
    mime: f.mime ?? null,
    detected: claimed.detected,
    checked: f.checked !== undefined,
    warnings: claimed.warnings,
    caption: f.caption ?? null,
    thumbnail: f.thumbnail ?? null,
    removed: f.removed ?? [],
    deletable: f.deleteCap !== undefined && f.deleted !== true,
    deleted: f.deleted === true,
  };
}

export async function messageView(
  ctx: ClientContext,
  r: MessageRecord,
  conversation: ConversationRecord,
  /** For many messages of one conversation (peopleOf): who is who, read once. */
  people?: People,
): Promise<MessageView> {
  const profile = people?.profile ?? (await requireProfile(ctx));
  const contact = conversation.kind === "direct" ? await ctx.repo.contact(conversation.contactId) : undefined;
  const conversationName = conversation.kind === "group" ? conversation.name : (contact?.name ?? "");
  const from: PersonRef = r.fromMe
    ? { identityKey: profile.identityPublicKey, name: profile.name, relation: "me" }
    : contact
      ? contactRef(contact)
      : people
        ? people.of(r.senderIdentity ?? "")
        : await person(ctx, conversation.id, r.senderIdentity ?? "", profile);
  return {
    conversation: conversationName,
    conversationId: r.conversationId,
    kind: conversation.kind,
    id: r.id,
    from,
    fromMe: r.fromMe,
    text: r.text,
    sentAt: new Date(r.sentAt).toISOString(),
    receivedAt: r.receivedAt === null ? null : new Date(r.receivedAt).toISOString(),
    status: r.status,
    ...(r.file ? { file: fileView(r.id, r.file) } : {}),
    ...(await refsView(ctx, r, conversation, profile, people)),
  };
}

/** How much of a quoted message a reply's view carries. */
export const QUOTE_LENGTH = 200;

/** The parts of a message view about other messages and people: quote, edit, delete, reactions, mentions. */
async function refsView(
  ctx: ClientContext,
  r: MessageRecord,
  conversation: ConversationRecord,
  profile: ProfileRecord,
  people?: People,
): Promise<Partial<MessageView>> {
  const view: Partial<MessageView> = {};
  const who = async (key: string) => (people ? people.of(key) : person(ctx, conversation.id, key, profile));
  if (r.quote !== undefined) {
    const q = await ctx.repo.message(r.conversationId, r.quote);
    const author = q ? (q.fromMe ? profile.identityPublicKey : q.senderIdentity) : null;
    view.quote = {
      id: r.quote,
      from: author ? await who(author) : null,
      text: q ? q.text.slice(0, QUOTE_LENGTH) : "",
      fileName: q?.file?.name ?? null,
      missing: !q,
      deleted: q?.deleted !== undefined,
    };
  }
  if (r.edited !== undefined) view.edited = new Date(r.edited).toISOString();
  if (r.deleted !== undefined) view.deleted = new Date(r.deleted).toISOString();
  const given = Object.entries(r.reactions ?? {}).filter(
    (e): e is [string, { emoji: string; at: number }] => e[1].emoji !== null,
  );
  if (given.length) {
    const byEmoji = new Map<string, { at: number; keys: string[] }>();
    for (const [key, { emoji, at }] of given.sort((a, b) => a[1].at - b[1].at)) {
      const entry = byEmoji.get(emoji) ?? { at, keys: [] };
      entry.keys.push(key);
      byEmoji.set(emoji, entry);
    }
    view.reactions = await Promise.all(
      [...byEmoji]
        .sort((a, b) => b[1].keys.length - a[1].keys.length || a[1].at - b[1].at)
        .map(async ([emoji, { keys }]) => ({
          emoji,
          count: keys.length,
          mine: keys.includes(profile.identityPublicKey),
          by: await Promise.all(keys.map(who)),
        })),
    );
  }
  if (r.mentions?.length) {
    view.mentions = await Promise.all(
      r.mentions.map(async (m) => ({ person: await who(m.key), start: m.start, end: m.end })),
    );
    view.mentionsMe = r.mentions.some((m) => m.key === profile.identityPublicKey);
  }
  const readers = Object.keys(r.readBy ?? {});
  if (r.fromMe && readers.length && r.deleted === undefined)
    view.readBy = await Promise.all(readers.map(who));
  return view;
}
