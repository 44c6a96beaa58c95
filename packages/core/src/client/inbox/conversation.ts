/**
 * A delivery in a conversation: MLS processing, then what it means. Commits are handled here
 * (membership, roles, name, key changes); application content goes to its kind's handler.
 */
import { type BodyType, decodeContent } from "../../content/index.js";
import { ParleyError } from "../../errors.js";
import { decodeGroupMetadata } from "../../messaging/group-metadata.js";
import type { GroupState, IncomingMessage } from "../../mls/engine.js";
import type { Batch } from "../../store/batch.js";
import type { DirectConversationRecord, GroupConversationRecord } from "../../store/records.js";
import { b64 } from "../../store/repository.js";
import { type ClientContext, requireProfile } from "../context.js";
import { directCommitOvertaken, staleDirectCommit } from "../devices/direct-order.js";
import type { ClientEvent } from "../events.js";
import { countGroupMessage } from "../groups/key-schedule.js";
import { unechoedLost } from "../groups/own-echo.js";
import { contactView, person, requireConversation } from "../lookup.js";
import { loadState, saveState } from "../mls-state.js";
import { requireFeedPlacement } from "../posts/placement.js";
import { checkKeyReset } from "../reset/received.js";
import type { PersonRef } from "../views.js";
import { noteRatchetPosition } from "./gaps.js";
import { handlers } from "./handlers/index.js";
import { isBroadcast } from "./receive.js";
import { reject } from "./rejection.js";
import { staleGroupMessage } from "./stale.js";
import { nothing, type Processed } from "./types.js";

/**
 * What a person says or does, as opposed to what their client keeps in step (addresses, keys,
 * receipts, names): from a blocked contact, these are dropped on arrival (client/contacts.ts).
 */
const FROM_THE_PERSON: ReadonlySet<BodyType> = new Set<BodyType>([
  "text",
  "file",
  "reaction",
  "edit",
  "delete",
  "group-invite",
  "post",
  "post-comment",
  "post-like",
]);

async function isBlocked(ctx: ClientContext, identityKey: string): Promise<boolean> {
  return (await ctx.repo.contacts()).some((c) => c.blocked === true && c.identityKey === identityKey);
}

export async function processInConversation(
  ctx: ClientContext,
  batch: Batch,
  conversationId: string,
  message: Uint8Array,
  /** The queue it was read from, when known (a group counts only its current queue's). */
  queueId?: string,
): Promise<Processed> {
  const conversation = await requireConversation(ctx, conversationId);
  if (conversation.kind === "group" && conversation.status !== "active") return nothing();
  const state = await loadState(ctx, conversation.groupId);
  if (conversation.kind === "group") {
    const stale = await staleGroupMessage(ctx, batch, conversation, state, message, queueId);
    if (stale) return stale;
  } else if (isBroadcast(conversation.receive)) {
    // A commit that lost its epoch in the queue our devices share (devices/direct-order.ts).
    const stale = staleDirectCommit(state, message);
    if (stale) return stale;
  }
  // Our own message, echoed back by a shared queue (a group's; a 1:1 queue our devices share,
  // docs/devices.md): already applied when we sent it. A queue only we read (a 1:1 chat on one
  // device) never echoes: no sender data to decrypt twice.
  if (conversation.kind === "group" || isBroadcast(conversation.receive)) {
    const sender = await ctx.engine.senderOf(state, message);
    if (sender !== undefined && sender === ctx.engine.ownLeafIndex(state)) return nothing();
  }
  const result = await ctx.engine.process(state, message, ctx.policy);
  if (conversation.kind === "direct") await directCommitOvertaken(ctx, batch, conversation.id, state, result);
  // A sender's key reset (or their revoked device) first: it may change who the contact is.
  const reset = await checkKeyReset(ctx, batch, conversation, result);
  const processed =
    conversation.kind === "direct"
      ? reset.length > 0
        ? { events: reset, followups: [] }
        : await afterDirectMessage(ctx, batch, conversation, result)
      : await afterGroupMessage(ctx, batch, conversation, state, result);
  if (conversation.kind === "group" && reset.length > 0) processed.events = [...reset, ...processed.events];
  if (result.kind === "application") {
    if (conversation.kind === "group") await countGroupMessage(ctx, batch, conversation.id);
    const gap = await noteRatchetPosition(ctx, batch, conversation, result);
    if (gap) processed.events = [...processed.events, gap];
  }
  if (result.kind === "commit" && (await ctx.repo.held(conversation.id, 1)).length > 0) {
    processed.followups = [...processed.followups, { kind: "retry-held", conversationId: conversation.id }];
  }
  if (result.kind === "removed") return processed; // its keys are deleted, not saved
  saveState(ctx, batch, conversation.groupId, result.state);
  return { ...processed, saved: { groupId: conversation.groupId, epoch: result.state.epoch } };
}

async function afterDirectMessage(
  ctx: ClientContext,
  batch: Batch,
  conversation: DirectConversationRecord,
  result: IncomingMessage,
): Promise<Processed> {
  const contact = await ctx.repo.contact(conversation.contactId);
  if (!contact) throw new ParleyError("corrupt", { what: "contact" });
  if (result.kind === "application") {
    // Another device of ours wrote in this chat: shown as ours (docs/devices.md).
    const self = await requireProfile(ctx);
    if (b64(result.sender.identityKey) === self.identityPublicKey) {
      return ownDeviceContent(ctx, batch, conversation, result);
    }
    if (b64(result.sender.identityKey) !== contact.identityKey) {
      reject({ reason: "wrong_sender", conversationId: conversation.id });
    }
    const { id, sentAt, body } = decodeContent(result.plaintext);
    if (contact.blocked && FROM_THE_PERSON.has(body.type)) return nothing(); // dropped, unacknowledged
    const handler = handlers[body.type].direct as ((d: unknown) => Promise<Processed>) | undefined;
    if (!handler) {
      return reject({
        reason: "misplaced",
        body: body.type,
        conversation: "direct",
        conversationId: conversation.id,
      });
    }
    return handler({ ctx, batch, conversation, contact, content: { id, sentAt }, body });
  }
  // A 1:1 conversation holds exactly the two identities; anyone else is a warning sign. (Our own
  // leaf is ours whatever its identity: during a key reset it may still hold the old one.)
  const own = ctx.engine.ownLeafIndex(result.state);
  const self = (await requireProfile(ctx)).identityPublicKey;
  // Our other devices' leaves carry our identity key; every other leaf must be the contact's.
  const others = ctx.engine
    .members(result.state)
    .filter((m) => m.leafIndex !== own && b64(m.identityKey) !== self);
  if (others.some((m) => b64(m.identityKey) !== contact.identityKey)) {
    const mustAccept = contact.verified || contact.mustAccept ? { mustAccept: true as const } : {};
    const changed = { ...contact, keyChanged: true, verified: false, ...mustAccept };
    ctx.repo.putContact(batch, changed);
    return {
      events: [{ type: "contact", contact: contactView(changed, conversation), change: "key-changed" }],
      followups: [],
    };
  }
  if (result.kind === "commit")
    return { events: await deviceEvents(ctx, conversation.id, result), followups: [] };
  return nothing();
}

/**
 * What our other device sent in a 1:1 chat (its copy in the queue our devices share): what the
 * person says is stored as ours; what keeps the chat in step (addresses, receipts, names) was meant
 * for the contact and is not ours to apply.
 */
async function ownDeviceContent(
  ctx: ClientContext,
  batch: Batch,
  conversation: DirectConversationRecord,
  result: Extract<IncomingMessage, { kind: "application" }>,
): Promise<Processed> {
  const { id, sentAt, body } = decodeContent(result.plaintext);
  if (body.type === "group-queue") {
    // Our side of the chat moved to a new shared queue (a device of ours was revoked).
    ctx.repo.putConversation(batch, { ...conversation, receive: body.queue });
    ctx.repo.putRoute(batch, body.queue.queueId, { kind: "conversation", conversationId: conversation.id });
    return nothing();
  }
  if (!OWN_DEVICE_KINDS.has(body.type)) return nothing();
  const handler = handlers[body.type].group as ((d: unknown) => Promise<Processed>) | undefined;
  if (!handler) return nothing();
  const self = b64(result.sender.identityKey);
  // The group handlers store by sender identity, which works for any conversation record.
  return handler({
    ctx,
    batch,
    conversation,
    state: result.state,
    sender: self,
    content: { id, sentAt },
    body,
  });
}

/** What another device of ours sends in a 1:1 chat that this device applies too. */
const OWN_DEVICE_KINDS: ReadonlySet<BodyType> = new Set<BodyType>(["text", "reaction", "edit", "delete"]);

/**
 * A commit that added or removed leaves of a person who stays in the conversation: they linked or
 * revoked a device. One event per person.
 */
async function deviceEvents(
  ctx: ClientContext,
  conversationId: string,
  result: Extract<IncomingMessage, { kind: "commit" }>,
): Promise<ClientEvent[]> {
  // Leaves per identity, counted once: a commit adding 50 people to a group of 500 listed every
  // member once per person added (O(added × members) for each member processing it).
  const leavesOf = new Map<string, number>();
  for (const m of ctx.engine.members(result.state)) {
    const k = b64(m.identityKey);
    leavesOf.set(k, (leavesOf.get(k) ?? 0) + 1);
  }
  const counts = new Map<string, { added: number; removed: number }>();
  const count = (k: string) => counts.get(k) ?? counts.set(k, { added: 0, removed: 0 }).get(k)!;
  // A device re-added (out with its old leaf, in with a new one: groups/dead-epoch.ts) is no change.
  const addedDevices = new Set(result.added.map((m) => b64(m.deviceKey)));
  const removedDevices = new Set(result.removed.map((m) => b64(m.deviceKey)));
  for (const m of result.added) if (!removedDevices.has(b64(m.deviceKey))) count(b64(m.identityKey)).added++;
  for (const m of result.removed.filter((r) => !addedDevices.has(b64(r.deviceKey)))) {
    const k = b64(m.identityKey);
    if (leavesOf.has(k)) count(k).removed++;
  }
  const events: ClientEvent[] = [];
  for (const [k, n] of counts) {
    const already = result.added.filter((m) => b64(m.identityKey) === k).length;
    // An identity that is new here altogether is a member joining, not a device.
    const leaves = leavesOf.get(k) ?? 0;
    if (n.added > 0 && leaves === already) continue;
    events.push({ type: "devices", conversationId, by: await person(ctx, conversationId, k), ...n });
  }
  return events;
}

async function afterGroupMessage(
  ctx: ClientContext,
  batch: Batch,
  conversation: GroupConversationRecord,
  before: GroupState,
  result: IncomingMessage,
): Promise<Processed> {
  const { id: conversationId, name } = conversation;
  if (result.kind === "removed") {
    ctx.repo.putConversation(batch, { ...conversation, status: "removed" });
    await ctx.repo.deleteGroupState(batch, conversation.groupId);
    const unsent = await unechoedLost(ctx, batch, conversation);
    // Out of our devices' own group: another device of ours revoked this one.
    const change = conversation.self ? ("revoked" as const) : ("removed" as const);
    return { events: [{ type: "group", conversationId, name, change }, ...unsent], followups: [] };
  }
  if (result.kind === "commit")
    return { events: await commitEvents(ctx, batch, conversation, before, result), followups: [] };
  const sender = b64(result.sender.identityKey);
  const { id, sentAt, body } = decodeContent(result.plaintext);
  requireFeedPlacement(conversation, body.type);
  if (FROM_THE_PERSON.has(body.type) && (await isBlocked(ctx, sender))) return nothing();
  const handler = handlers[body.type].group as ((d: unknown) => Promise<Processed>) | undefined;
  if (!handler)
    return reject({ reason: "misplaced", body: body.type, conversation: "group", conversationId });
  const senderDevice = b64(result.sender.deviceKey);
  const content = { id, sentAt };
  return handler({ ctx, batch, conversation, state: result.state, sender, senderDevice, content, body });
}

/** What a commit changed, as events: members added and removed, the name, the admins. */
async function commitEvents(
  ctx: ClientContext,
  batch: Batch,
  conversation: GroupConversationRecord,
  before: GroupState,
  result: Extract<IncomingMessage, { kind: "commit" }>,
): Promise<ClientEvent[]> {
  const events: ClientEvent[] = [];
  const conversationId = conversation.id;
  const refs = (keys: Iterable<string>) =>
    Promise.all([...new Set(keys)].map((k) => person(ctx, conversationId, k)));
  const meta = decodeGroupMetadata(ctx.engine.metadata(result.state));
  const old = decodeGroupMetadata(ctx.engine.metadata(before));
  let name = conversation.name;
  if (result.metadata && meta) {
    name = meta.name;
    if (old?.name !== meta.name) {
      events.push({
        type: "group",
        conversationId,
        name,
        change: "renamed",
        from: old?.name ?? conversation.name,
      });
    }
    if (old?.admins.join() !== meta.admins.join()) {
      const was = new Set(old?.admins ?? []);
      const is = new Set(meta.admins);
      const promoted: PersonRef[] = await refs(meta.admins.filter((k) => !was.has(k)));
      const demoted: PersonRef[] = await refs([...was].filter((k) => !is.has(k)));
      events.push({ type: "group", conversationId, name, change: "roles", promoted, demoted });
    }
    ctx.repo.putConversation(batch, { ...conversation, name: meta.name, admins: meta.admins });
  }
  // People who were here before and stay: a device of theirs came or went (deviceEvents).
  const was = new Set(ctx.engine.members(before).map((m) => b64(m.identityKey)));
  const is = new Set(ctx.engine.members(result.state).map((m) => b64(m.identityKey)));
  const joined = result.added.map((m) => b64(m.identityKey)).filter((k) => !was.has(k));
  // Who left on their own was reported when their leave mark came; their removal is not news.
  const wasLeaving = new Set(old?.leaving ?? []);
  const removed = result.removed
    .map((m) => b64(m.identityKey))
    .filter((k) => !is.has(k) && !wasLeaving.has(k));
  const leaving = (meta?.leaving ?? []).filter((k) => !wasLeaving.has(k) && is.has(k));
  if (joined.length || removed.length || leaving.length) {
    events.push({
      type: "group",
      conversationId,
      name,
      change: "members",
      added: await refs(joined),
      removed: await refs(removed),
      left: await refs(leaving),
    });
  }
  events.push(...(await deviceEvents(ctx, conversationId, result)));
  return events;
}
