/**
 * Audiences (docs/04-posts.md): who a post of ours goes to. Each is one feed group, an MLS group
 * whose members are the audience's people (all their devices) and whose only admin — the only one
 * who may commit — is us. Its name stays on this device: the group's metadata says "Posts" to its
 * members, so nobody learns which list they are on. "all" is every contact we have not blocked.
 *
 * Membership is brought up to date before each post (`reconcileAudience`): a new contact is added
 * (and reads from then on: MLS gives them no earlier key), a blocked or deleted one removed (the
 * group moves to a new queue in an epoch they cannot read). Adding many is one commit.
 */
import { fromUtf8, utf8 } from "../../encoding/bytes.js";
import { ParleyError } from "../../errors.js";
import { Keys } from "../../store/keys.js";
import type { ContactRecord, GroupConversationRecord } from "../../store/records.js";
import { b64 } from "../../store/repository.js";
import { type ClientContext, randomId, requireProfile } from "../context.js";
import { addToGroup, createGroup, removeFromGroup } from "../groups/admin.js";
import { findContact } from "../lookup.js";
import { loadState } from "../mls-state.js";
import { parseGroupName } from "../names.js";
import { type AudienceRecord, audiences, putAudience } from "./store.js";

/** The audience every contact is in: `parley post` without --audience. */
export const EVERYONE = "all";
/** What a feed group's members see as its name (its metadata): never the audience's own name. */
const FEED_GROUP_NAME = "Posts";

export interface AudienceView {
  id: string;
  name: string;
  everyone: boolean;
  /** Who is in it now (in the feed group), and who will be at the next post (no key package yet). */
  members: { contactId: string; name: string; pending: boolean }[];
}

export async function findAudience(ctx: ClientContext, name: string): Promise<AudienceRecord> {
  const wanted = name.trim().toLowerCase();
  const all = await audiences(ctx);
  const match = all.find((a) => a.id === name || a.name.toLowerCase() === wanted);
  if (match) return match;
  if (wanted === EVERYONE) return createAudienceRecord(ctx, EVERYONE, true, []);
  throw new ParleyError("unknown_audience", { name });
}

async function createAudienceRecord(
  ctx: ClientContext,
  name: string,
  everyone: boolean,
  members: string[],
): Promise<AudienceRecord> {
  const group = await createGroup(ctx, FEED_GROUP_NAME, { feed: true });
  const record: AudienceRecord = {
    v: 1,
    id: randomId(ctx),
    name,
    conversationId: group.id,
    everyone,
    members,
    createdAt: ctx.now(),
  };
  await ctx.repo.commit(putAudience(ctx.repo.batch(), record));
  return record;
}

/** A named audience of the given contacts (by name or id), its members added in one commit. */
export async function createAudience(
  ctx: ClientContext,
  name: string,
  contacts: string[],
): Promise<AudienceView> {
  await requireProfile(ctx);
  const audienceName = parseGroupName(name);
  const taken = (await audiences(ctx)).some((a) => a.name.toLowerCase() === audienceName.toLowerCase());
  if (taken || audienceName.toLowerCase() === EVERYONE) throw new ParleyError("audience_exists", { name });
  const members = await contactIds(ctx, contacts);
  const record = await createAudienceRecord(ctx, audienceName, false, members);
  await reconcileAudience(ctx, record, { strict: true });
  return audienceView(ctx, record);
}

export async function addToAudience(
  ctx: ClientContext,
  name: string,
  contacts: string[],
): Promise<AudienceView> {
  const record = await namedAudience(ctx, name);
  const added = await contactIds(ctx, contacts);
  const { reconciled: _, ...rest } = record;
  const updated = { ...rest, members: [...new Set([...record.members, ...added])] };
  await ctx.repo.commit(putAudience(ctx.repo.batch(), updated));
  await reconcileAudience(ctx, updated, { strict: true });
  return audienceView(ctx, updated);
}

export async function removeFromAudience(
  ctx: ClientContext,
  name: string,
  contacts: string[],
): Promise<AudienceView> {
  const record = await namedAudience(ctx, name);
  const removed = new Set(await contactIds(ctx, contacts));
  const { reconciled: _, ...rest } = record;
  const updated = { ...rest, members: record.members.filter((m) => !removed.has(m)) };
  await ctx.repo.commit(putAudience(ctx.repo.batch(), updated));
  await reconcileAudience(ctx, updated);
  return audienceView(ctx, updated);
}

export const showAudience = async (ctx: ClientContext, name: string): Promise<AudienceView> =>
  audienceView(ctx, await findAudience(ctx, name));

export async function listAudiences(ctx: ClientContext): Promise<AudienceView[]> {
  await requireProfile(ctx);
  return Promise.all((await audiences(ctx)).map((a) => audienceView(ctx, a)));
}

/** "all" is everyone by definition: its members are not chosen one by one. */
async function namedAudience(ctx: ClientContext, name: string): Promise<AudienceRecord> {
  const record = await findAudience(ctx, name);
  if (record.everyone) throw new ParleyError("unknown_audience", { name });
  return record;
}

async function contactIds(ctx: ClientContext, names: string[]): Promise<string[]> {
  if (names.length === 0) throw new ParleyError("empty", { what: "contacts" });
  return Promise.all(names.map(async (n) => (await findContact(ctx, n)).id));
}

/** The contacts an audience should hold now: chosen (or all), never a blocked one. */
async function wantedContacts(ctx: ClientContext, record: AudienceRecord): Promise<ContactRecord[]> {
  const contacts = (await ctx.repo.contacts()).filter((c) => c.blocked !== true);
  if (record.everyone) return contacts;
  const chosen = new Set(record.members);
  return contacts.filter((c) => chosen.has(c.id));
}

/**
 * Brings the feed group's members in line with the audience: removes who no longer belongs (one
 * commit, then a new queue) and adds who is missing (one commit for all of them). A contact who
 * has not given us a KeyPackage yet waits for the next post; with `strict` (they were just named)
 * that is an error instead.
 *
 * Nothing is read when nothing can have changed: no contact or contact's KeyPackage written since
 * the last reconciliation, and the group at the epoch it left (`AudienceRecord.reconciled`). So a
 * post to 5,000 friends reads two small records here, not 5,000 contacts.
 */
export async function reconcileAudience(
  ctx: ClientContext,
  record: AudienceRecord,
  options: { strict?: boolean } = {},
): Promise<void> {
  const profile = await requireProfile(ctx);
  const conversation = await ctx.repo.conversation(record.conversationId);
  if (conversation?.kind !== "group") throw new ParleyError("corrupt", { what: "group_state" });
  const revision = await ctx.repo.contactsRevision();
  const epochNow = async () =>
    fromUtf8((await ctx.repo.kv.get(Keys.mlsEpoch(conversation.groupId))) ?? utf8(""));
  const done = record.reconciled;
  if (done?.contacts === revision && done.epoch !== "" && done.epoch === (await epochNow())) return;
  await bringInLine(ctx, record, conversation, profile.identityPublicKey, options);
  // Stamped with the revision read before: a contact written meanwhile makes the next post look again.
  const current = (await audiences(ctx)).find((a) => a.id === record.id);
  if (current === undefined || current.members.join() !== record.members.join()) return;
  const reconciled = { contacts: revision, epoch: await epochNow() };
  await ctx.repo.commit(putAudience(ctx.repo.batch(), { ...current, reconciled }));
}

async function bringInLine(
  ctx: ClientContext,
  record: AudienceRecord,
  conversation: GroupConversationRecord,
  self: string,
  options: { strict?: boolean },
): Promise<void> {
  const wanted = await wantedContacts(ctx, record);
  const present = await presentMembers(ctx, record, conversation.groupId, self);
  const wantedKeys = new Set(wanted.map((c) => c.identityKey));
  const gone = [...present].filter((k) => !wantedKeys.has(k));
  if (gone.length > 0) await removeFromGroup(ctx, conversation.id, gone);
  const missing = wanted.filter((c) => !present.has(c.identityKey));
  const ready: ContactRecord[] = [];
  for (const c of missing) {
    if ((await ctx.repo.theirKeyPackages(c.id)).length > 0) ready.push(c);
    else if (options.strict) throw new ParleyError("no_key_package", { contact: c.name });
  }
  if (ready.length > 0)
    await addToGroup(
      ctx,
      conversation.id,
      ready.map((c) => c.id),
    );
}

/** The feed group's members but us, from the snapshot if the group has not moved since. */
async function presentMembers(
  ctx: ClientContext,
  record: AudienceRecord,
  groupId: string,
  self: string,
): Promise<Set<string>> {
  const epoch = await ctx.repo.kv.get(Keys.mlsEpoch(groupId));
  if (epoch && record.snapshot?.epoch === fromUtf8(epoch)) return new Set(record.snapshot.identities);
  const state = await loadState(ctx, groupId);
  const present = new Set(ctx.engine.members(state).map((m) => b64(m.identityKey)));
  present.delete(self);
  const snapshot = { epoch: state.epoch.toString(), identities: [...present] };
  const current = (await audiences(ctx)).find((a) => a.id === record.id) ?? record;
  await ctx.repo.commit(putAudience(ctx.repo.batch(), { ...current, snapshot }));
  return present;
}

async function audienceView(ctx: ClientContext, record: AudienceRecord): Promise<AudienceView> {
  const profile = await requireProfile(ctx);
  const conversation = await ctx.repo.conversation(record.conversationId);
  const inGroup = new Set<string>();
  if (conversation?.kind === "group") {
    const state = await loadState(ctx, conversation.groupId);
    for (const m of ctx.engine.members(state)) inGroup.add(b64(m.identityKey));
  }
  inGroup.delete(profile.identityPublicKey);
  const wanted = await wantedContacts(ctx, record);
  return {
    id: record.id,
    name: record.name,
    everyone: record.everyone,
    members: wanted.map((c) => ({ contactId: c.id, name: c.name, pending: !inGroup.has(c.identityKey) })),
  };
}
