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
import type { ClientContext } from "../context.js";
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
    // Our own message, echoed back by the shared queue: already applied when we sent it.
    const sender = await ctx.engine.senderOf(state, message);
    if (sender !== undefined && sender === ctx.engine.ownLeafIndex(state)) return nothing();
  }
  const result = await ctx.engine.process(state, message, ctx.policy);
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
  const others = ctx.engine.members(result.state).filter((m) => m.leafIndex !== own);
  if (others.some((m) => b64(m.identityKey) !== contact.identityKey)) {
    const mustAccept = contact.verified || contact.mustAccept ? { mustAccept: true as const } : {};
    const changed = { ...contact, keyChanged: true, verified: false, ...mustAccept };
    ctx.repo.putContact(batch, changed);
    return {
      events: [{ type: "contact", contact: contactView(changed, conversation), change: "key-changed" }],
      followups: [],
    };
  }
  return nothing();
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
    ctx.repo.deleteGroupState(batch, conversation.groupId);
    const unsent = await unechoedLost(ctx, batch, conversation);
    return { events: [{ type: "group", conversationId, name, change: "removed" }, ...unsent], followups: [] };
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
  return handler({ ctx, batch, conversation, state: result.state, sender, content: { id, sentAt }, body });
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
  let name = conversation.name;
  if (result.metadata && meta) {
    const old = decodeGroupMetadata(ctx.engine.metadata(before));
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
  if (result.added.length || result.removed.length) {
    events.push({
      type: "group",
      conversationId,
      name,
      change: "members",
      added: await refs(result.added.map((m) => b64(m.identityKey))),
      removed: await refs(result.removed.map((m) => b64(m.identityKey))),
    });
  }
  return events;
}
