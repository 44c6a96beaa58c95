/**
 * Disappearing messages (issue 13): a timer agreed inside the encrypted conversation (`expire`
 * content; in a group only admins may set it). While it is on, every message sent or received after
 * it was set is deleted from every member's store — with its file record, and our own uploads from
 * the relay — once it is older than the timer (sweep.ts). The relay sees one more padded message.
 *
 * Concurrent changes: the one its sender stamped latest wins on every device (`expireSetAt`).
 */
import type { EXPIRE_CHOICES } from "../../content/expire.js";
import { ParleyError } from "../../errors.js";
import { decodeGroupMetadata, isAdmin } from "../../messaging/group-metadata.js";
import type { ConversationRecord } from "../../store/records.js";
import { type ClientContext, requireProfile } from "../context.js";
import type { ClientEvent } from "../events.js";
import { findConversation, person } from "../lookup.js";
import { loadState } from "../mls-state.js";
import { sealAndDeliver } from "./send.js";

export type ExpireSeconds = (typeof EXPIRE_CHOICES)[number] | null;

/** The record after a timer change stamped `at` (ignored if an earlier-stamped one arrives late). */
export function withTimer(
  c: ConversationRecord,
  seconds: ExpireSeconds,
  at: number,
): ConversationRecord | undefined {
  if (c.expireSetAt !== undefined && at < c.expireSetAt) return undefined;
  const { expireAfter: _a, expireSince: _s, ...rest } = c;
  if (seconds === null) return { ...rest, expireSetAt: at };
  return { ...rest, expireAfter: seconds, expireSince: c.expireSince ?? at, expireSetAt: at };
}

/** The event every member's client shows for a timer change. */
export async function timerEvent(
  ctx: ClientContext,
  c: ConversationRecord,
  seconds: ExpireSeconds,
  by: string,
): Promise<ClientEvent> {
  return { type: "expire", conversationId: c.id, seconds, by: await person(ctx, c.id, by) };
}

/** Sets (or with null turns off) a conversation's timer, for everyone in it. */
export async function setExpiry(
  ctx: ClientContext,
  nameOrId: string,
  seconds: ExpireSeconds,
): Promise<ClientEvent> {
  const profile = await requireProfile(ctx);
  const target = await findConversation(ctx, nameOrId);
  if (target.kind === "group") {
    const meta = decodeGroupMetadata(ctx.engine.metadata(await loadState(ctx, target.groupId)));
    if (!isAdmin(meta, profile.identityPublicKey)) throw new ParleyError("not_admin", { group: target.name });
  }
  const at = ctx.now();
  await sealAndDeliver(ctx, target.id, { type: "expire", seconds }, (batch, current) => {
    const next = withTimer(current, seconds, at);
    if (next) ctx.repo.putConversation(batch, next);
  });
  return timerEvent(ctx, target, seconds, profile.identityPublicKey);
}
