/**
 * Dead epochs (docs/protocol.md, "A member that falls out of step"). A member that cannot follow
 * the group's epochs any more — the commits it missed expired from the relay before it came back,
 * or it could not process one that everyone else applied — would otherwise sit in its old epoch for
 * good, holding every later message as "of a later epoch" and reading nothing. So each sync looks,
 * once every queue is read to its end:
 *
 * - `messages_expired`: the relay said the group's queue no longer holds our cursor (messages we
 *   had not read expired), and messages of a later epoch wait for a commit we will never read. With
 *   nothing read since that opened in our epoch and nothing of a later one, it cannot tell yet (the
 *   group may simply have been quiet for the relay's TTL): it remembers the gap (`gapAt`) and
 *   decides at a later sync — a message that opens clears it, one of a later epoch is a dead epoch;
 * - `commit_unreadable`: messages of a later epoch have waited for their commit for DEAD_EPOCH_MS,
 *   and nothing read in this sync opened in our epoch (the queue is ordered: a commit always comes
 *   before the messages of its epoch, so a commit we never processed will never come).
 *
 * Then the device falls out: the group becomes "needs-readd", its keys and held messages are
 * deleted, our messages not yet echoed are marked failed, and a fresh KeyPackage of the group's
 * suite goes to one admin among our contacts (`group-readd`, over the 1:1 chat), whose client
 * re-adds this device in one commit (its old leaf out, the new KeyPackage in) and sends the
 * Welcome as for any add. The user is told (`readd-requested`). Asking is tried again at the next
 * sync if it could not be sent, and, after READD_RETRY_MS without a Welcome, asks the next admin.
 */

import { deletePendingCommit } from "../../store/group-order.js";
import { b64 } from "../../store/repository.js";
import { type ClientContext, deviceOf, requireProfile } from "../context.js";
import type { ClientEvent, DeadEpochCause } from "../events.js";
import { contactRef } from "../lookup.js";
import { keyPackageId, loadState } from "../mls-state.js";
import { sendContentLocked } from "../outbox.js";
import { unechoedLost } from "./own-echo.js";

/** How long messages of a later epoch wait for their commit before the epoch counts as dead. */
export const DEAD_EPOCH_MS = 10 * 60_000;
/** How long a request to be re-added waits for its Welcome before the next admin is asked. */
export const READD_RETRY_MS = 24 * 3600_000;

/** What one sync saw on a group's current queue (drainQueue fills it). */
export interface QueueReading {
  /** The relay no longer held our cursor: messages we had not read expired. */
  gap: boolean;
  /** A message read (after the gap, if any) opened in our epoch, or a commit of ours or theirs was applied. */
  accepted: boolean;
}

const DIAGNOSTIC: Record<DeadEpochCause, string> = {
  messages_expired: "commits this device missed expired from the relay",
  commit_unreadable: "this device could not process a commit the others applied",
};

/** After a sync read every queue: the groups this device can no longer follow fall out and ask back in. */
export async function checkDeadEpochs(
  ctx: ClientContext,
  readings: ReadonlyMap<string, QueueReading>,
): Promise<ClientEvent[]> {
  const events: ClientEvent[] = [];
  for (const c of await ctx.repo.conversations()) {
    if (c.kind !== "group") continue;
    if (c.status === "needs-readd" && c.readd) {
      if (c.readd.askedAt === 0 || ctx.now() - c.readd.askedAt >= READD_RETRY_MS)
        events.push(...(await ctx.lock.run(() => askToBeReadded(ctx, c.id))));
      continue;
    }
    if (c.status !== "active") continue;
    const reading = readings.get(c.receive.queueId);
    if (reading?.accepted) {
      if (c.gapAt !== undefined) await ctx.lock.run(() => setGap(ctx, c.id, undefined));
      continue;
    }
    const [oldest] = await ctx.repo.held(c.id, 1);
    let cause: DeadEpochCause | undefined;
    if (reading?.gap || c.gapAt !== undefined) {
      if (oldest) cause = "messages_expired";
      else if (c.gapAt === undefined) await ctx.lock.run(() => setGap(ctx, c.id, ctx.now()));
    } else if (
      oldest &&
      ctx.now() - oldest[1].heldAt >= DEAD_EPOCH_MS &&
      (await mayFallOutOnSuspicion(ctx, c.admins))
    )
      cause = "commit_unreadable";
    if (cause) events.push(...(await ctx.lock.run(() => fallOutLocked(ctx, c.id, cause))));
  }
  return events;
}

/**
 * `commit_unreadable` rests on messages that claim a later epoch, which any member can forge (the
 * epoch of a PrivateMessage is in the clear): in a group where nobody wrote for DEAD_EPOCH_MS one
 * such message would make every reader fall out. So only a device that someone can bring back acts
 * on it: not an admin's (were every admin out of step, nobody would be left to re-add anyone — the
 * forged message would end the group), and not one with no admin among its contacts (it would delete
 * its keys and ask nobody). A forged message then costs the group re-adds by its admins, never the
 * group; an admin's device really out of step is brought back by another admin's remove and add.
 * `messages_expired` stands on the relay's word that our place expired, and applies to everyone.
 */
async function mayFallOutOnSuspicion(ctx: ClientContext, admins: readonly string[]): Promise<boolean> {
  const me = (await requireProfile(ctx)).identityPublicKey;
  if (admins.includes(me)) return false;
  return (await adminContacts(ctx, admins)).length > 0;
}

/** The group's admins that are our contacts (not blocked), in the group's order: whom we may ask. */
async function adminContacts(ctx: ClientContext, admins: readonly string[]) {
  const contacts = await ctx.repo.contacts();
  return admins
    .map((k) => contacts.find((x) => x.identityKey === k && !x.blocked))
    .filter((x) => x !== undefined);
}

async function setGap(ctx: ClientContext, conversationId: string, at: number | undefined): Promise<void> {
  const c = await ctx.repo.conversation(conversationId);
  if (c?.kind !== "group" || c.status !== "active") return;
  const { gapAt: _, ...rest } = c;
  await ctx.repo.commit(
    ctx.repo.putConversation(ctx.repo.batch(), at === undefined ? rest : { ...rest, gapAt: at }),
  );
}

async function fallOutLocked(
  ctx: ClientContext,
  conversationId: string,
  cause: DeadEpochCause,
): Promise<ClientEvent[]> {
  const c = await ctx.repo.conversation(conversationId);
  if (c?.kind !== "group" || c.status !== "active") return [];
  const suite = ctx.engine.cipherSuiteOf(await loadState(ctx, c.groupId));
  const batch = ctx.repo.batch();
  // The epoch's keys are of no more use: nobody will ever write in it again.
  await ctx.repo.deleteGroupState(batch, c.groupId);
  deletePendingCommit(batch, c.id);
  for (const [order] of await ctx.repo.held(c.id)) ctx.repo.deleteHeld(batch, c.id, order);
  const unsent = await unechoedLost(ctx, batch, c);
  const { gapAt: _, ...rest } = c;
  ctx.repo.putConversation(batch, {
    ...rest,
    status: "needs-readd",
    statusReason: DIAGNOSTIC[cause],
    readd: { cause, suite, askedAt: 0 },
  });
  await ctx.repo.commit(batch);
  return [...(await askToBeReadded(ctx, c.id)), ...unsent];
}

/**
 * Sends a fresh KeyPackage to the next admin among our contacts (after the one asked last), and
 * says so. With no admin among our contacts the user is told that nobody could be asked. Holds the lock.
 */
async function askToBeReadded(ctx: ClientContext, conversationId: string): Promise<ClientEvent[]> {
  const c = await ctx.repo.conversation(conversationId);
  if (c?.kind !== "group" || c.status !== "needs-readd" || !c.readd) return [];
  const { readd } = c;
  const candidates = await adminContacts(ctx, c.admins);
  const last = candidates.findIndex((x) => x.identityKey === readd.admin);
  const admin = candidates[(last + 1) % Math.max(1, candidates.length)];
  const event: ClientEvent = {
    type: "group",
    conversationId: c.id,
    name: c.name,
    change: "readd-requested",
    cause: readd.cause,
    ...(admin ? { admin: contactRef(admin) } : {}),
  };
  const batch = ctx.repo.batch();
  if (readd.ref) ctx.repo.deleteOwnKeyPackage(batch, readd.ref); // the previous request's, never used
  if (!admin) {
    // Nobody to ask: said once; an admin who adds us back (remove, then add) still can.
    ctx.repo.putConversation(batch, {
      ...c,
      readd: { cause: readd.cause, suite: readd.suite, askedAt: ctx.now() },
    });
    await ctx.repo.commit(batch);
    return [event];
  }
  const device = deviceOf(await requireProfile(ctx));
  const kp = await ctx.engine.createKeyPackage(device, { cipherSuite: readd.suite });
  const ref = await keyPackageId(ctx, kp.publicMessage);
  ctx.repo.putOwnKeyPackage(batch, ref, {
    publicMessage: b64(kp.publicMessage),
    privateKey: b64(kp.privateKey),
  });
  ctx.repo.putConversation(batch, {
    ...c,
    readd: { cause: readd.cause, suite: readd.suite, askedAt: ctx.now(), admin: admin.identityKey, ref },
  });
  await ctx.repo.commit(batch);
  try {
    await sendContentLocked(ctx, admin.conversationId, {
      type: "group-readd",
      groupId: c.groupId,
      keyPackage: b64(kp.publicMessage),
      cause: readd.cause,
    });
  } catch (e) {
    // Not sent (the relay out of reach): asked again at the next sync.
    const again = await ctx.repo.conversation(c.id);
    if (again?.kind === "group" && again.readd?.ref === ref)
      await ctx.repo.commit(
        ctx.repo.putConversation(ctx.repo.batch(), { ...again, readd: { ...again.readd, askedAt: 0 } }),
      );
    return [
      event,
      {
        type: "warning",
        conversationId: c.id,
        code: "followup_failed",
        followup: "group-readd",
        cause: (e as Error).message,
      },
    ];
  }
  return [event];
}
