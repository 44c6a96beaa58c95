/**
 * After our commit's echo (groups/own-echo.ts): a commit that won sends its Welcomes — one per
 * invitee, for this commit only — and, for a removal, moves the group to a new queue; a commit that
 * lost is redone on the epoch that won. Then what waits behind it is committed, and messages sealed
 * again in the current epoch go out.
 */

import type { Body, GroupQueue } from "../../content/index.js";
import { toHex } from "../../encoding/bytes.js";
import type { Batch } from "../../store/batch.js";
import {
  type CommitIntent,
  deletePendingCommit,
  type PendingCommitRecord,
  pendingCommit,
  putGroupSent,
  putLinkWelcome,
  putWelcomeProgress,
  welcomeProgress,
} from "../../store/group-order.js";
import type { GroupConversationRecord } from "../../store/records.js";
import { unb64 } from "../../store/repository.js";
import { type ClientContext, orderKey, randomId, requireProfile } from "../context.js";
import type { ClientEvent } from "../events.js";
import { answerJoin } from "../group-links/answer.js";
import { givenUp, mergeIntents, proposeLocked } from "../groups/commit-order.js";
import { resetKeySchedule } from "../groups/key-schedule.js";
import { publishToGroup } from "../groups/queue.js";
import { commitWithState, encryptContent, keyPackageId, loadState, saveState } from "../mls-state.js";
import { sealControlLocked } from "../outbox.js";
import { deliverOutbox } from "../outbox-delivery.js";
import { attempt } from "./attempt.js";
import type { FollowupRunner } from "./types.js";

export const groupOrderFollowup: FollowupRunner<"group-order"> = {
  async run(ctx, items) {
    const events: ClientEvent[] = [];
    const move = new Set(items.filter((f) => f.move).map((f) => f.conversationId));
    let invites = false;
    for (const conversationId of new Set(items.map((f) => f.conversationId))) {
      await attempt(events, conversationId, "group-order", () =>
        ctx.lock.run(async () => {
          const conversation = await ctx.repo.conversation(conversationId);
          if (conversation?.kind !== "group" || conversation.status !== "active") {
            await ctx.repo.commit(deletePendingCommit(ctx.repo.batch(), conversationId));
            return;
          }
          if (move.has(conversationId)) await moveGroupLocked(ctx, conversation);
          const pending = await pendingCommit(ctx.repo, conversationId);
          if (pending?.status === "won")
            invites = (await afterWinLocked(ctx, conversation, pending)) || invites;
          else if (pending?.status === "lost") await redoLocked(ctx, conversation, pending, events);
        }),
      );
      events.push(...(await deliverOutbox(ctx, { conversationId, now: true })).events);
    }
    // The Welcomes sealed above, in the invitees' 1:1 chats (those the relay does not take now go
    // at the next sync or listen).
    if (invites) events.push(...(await deliverOutbox(ctx, { now: true })).events);
    return events;
  },
};

/** Returns whether it sealed invites into the outbox (the caller delivers them). */
async function afterWinLocked(
  ctx: ClientContext,
  conversation: GroupConversationRecord,
  pending: PendingCommitRecord,
): Promise<boolean> {
  const { intent } = pending;
  let invites = false;
  let progress = (await welcomeProgress(ctx.repo, conversation.id)) ?? { adds: 0, readds: 0, joins: 0 };
  // Each invitee's Welcome goes once, one invite per person naming the KeyPackage of each of their
  // devices (added together); the progress record counts the people done.
  const byPerson = new Map<string, NonNullable<CommitIntent["add"]>>();
  for (const a of intent.add ?? []) {
    const theirs = byPerson.get(a.contactId);
    if (theirs) theirs.push(a);
    else byPerson.set(a.contactId, [a]);
  }
  const people = [...byPerson];
  // Each invite is sealed into the outbox in the same write as the progress that counts it: sent
  // exactly once, whatever fails after (the relay out of reach, the process killed).
  for (let i = progress.adds; i < people.length; i++) {
    const [contactId, theirs] = people[i]!;
    const contact = await ctx.repo.contact(contactId);
    progress = { ...progress, adds: i + 1 };
    const counted = progress;
    const also = (batch: Batch) => {
      // Used: gone from the stock — but for a last-resort one, which stays until they replace it
      // (marked so when it was picked: the stock is not read again here, once per invitee).
      for (const a of theirs) if (!a.lastResort) ctx.repo.deleteTheirKeyPackage(batch, contactId, a.ref);
      putWelcomeProgress(batch, conversation.id, counted);
    };
    const refs = await Promise.all(theirs.map((a) => keyPackageId(ctx, unb64(a.keyPackage))));
    const invite =
      contact && pending.welcome ? groupInvite(conversation, pending, pending.welcome, refs) : undefined;
    invites = (await sealInvite(ctx, contact?.conversationId, invite, also)) || invites;
  }
  // Re-added devices (dead-epoch.ts): their Welcome over the 1:1 chat, like an invitee's.
  const readds = intent.readd ?? [];
  for (let i = progress.readds; i < readds.length; i++) {
    const readd = readds[i]!;
    const contact = await ctx.repo.contact(readd.contactId);
    progress = { ...progress, readds: i + 1 };
    const counted = progress;
    const invite =
      contact && pending.welcome
        ? groupInvite(conversation, pending, pending.welcome, [readd.ref])
        : undefined;
    invites =
      (await sealInvite(ctx, contact?.conversationId, invite, (b) =>
        putWelcomeProgress(b, conversation.id, counted),
      )) || invites;
  }
  // Link joiners' Welcomes go sealed to the queue each named (group-links/answer.ts).
  const joins = intent.join ?? [];
  for (let i = progress.joins; i < joins.length; i++) {
    // Sent before the progress counts them: a crash in between sends it twice, which the joiner
    // ignores (its pending join is gone after the first); the other order could lose it.
    if (pending.welcome) await answerJoin(ctx, conversation, joins[i]!, pending.welcome, pending.cursor);
    progress = { ...progress, joins: i + 1 };
    await ctx.repo.commit(putWelcomeProgress(ctx.repo.batch(), conversation.id, progress));
  }
  // A device of ours being linked: the link passes its Welcome on (client/devices/link-existing.ts).
  if (pending.welcome && intent.devices?.length) {
    const batch = ctx.repo.batch();
    for (const d of intent.devices) {
      putLinkWelcome(batch, d.link, conversation.id, {
        welcome: pending.welcome,
        ...(pending.cursor ? { cursor: pending.cursor } : {}),
      });
    }
    await ctx.repo.commit(batch);
  }
  // Every commit carries a fresh UpdatePath: the key-update round starts again.
  const done = resetKeySchedule(ctx, deletePendingCommit(ctx.repo.batch(), conversation.id), conversation.id);
  await ctx.repo.commit(done);
  // A removed member, or a revoked device of ours, knew the queue: the group moves on — where we
  // may move it (admins only; otherwise the revoked device can still fetch the queue's ciphertext,
  // not decrypt it, as after a reset: docs/devices.md).
  const profile = await requireProfile(ctx);
  const mayMove = conversation.admins.includes(profile.identityPublicKey);
  if (intent.remove?.length || (intent.revokeDevices?.length && mayMove))
    await moveGroupLocked(ctx, conversation);
  if (pending.next) await proposeLocked(ctx, conversation, pending.next);
  return invites;
}

/**
 * Seals `invite` into the 1:1 chat's outbox with what `also` writes, in one write; with no invite
 * to send (the contact gone, no Welcome, no way to reach them yet), writes `also` alone. Returns
 * whether an invite waits in the outbox.
 */
async function sealInvite(
  ctx: ClientContext,
  conversationId: string | undefined,
  invite: Body | undefined,
  also: (batch: Batch) => void,
): Promise<boolean> {
  if (conversationId && invite && (await sealControlLocked(ctx, conversationId, invite, also))) return true;
  const batch = ctx.repo.batch();
  also(batch);
  await ctx.repo.commit(batch);
  return false;
}

/**
 * The group-invite an invitee's (or a re-added device's) 1:1 chat carries: the Welcome, the
 * KeyPackage of each of their devices it is for (`refs`, the first apart), and where the commit lay
 * — the group may have moved since; the joiner follows the move.
 */
function groupInvite(
  conversation: GroupConversationRecord,
  pending: PendingCommitRecord,
  welcome: string,
  refs: string[],
): Body {
  return {
    type: "group-invite",
    welcome,
    keyPackageRef: refs[0]!,
    ...(refs.length > 1 ? { keyPackageRefs: refs.slice(1) } : {}),
    queue: (pending.cursorQueue ?? conversation.receive) as GroupQueue,
    ...(pending.cursor ? { cursor: pending.cursor } : {}),
  };
}

async function redoLocked(
  ctx: ClientContext,
  conversation: GroupConversationRecord,
  pending: PendingCommitRecord,
  events: ClientEvent[],
): Promise<void> {
  await ctx.repo.commit(deletePendingCommit(ctx.repo.batch(), conversation.id));
  const intent = mergeIntents(pending.intent, pending.next);
  if (givenUp(pending)) {
    events.push({
      type: "warning",
      conversationId: conversation.id,
      code: "followup_failed",
      followup: "group-order",
      cause: `the change lost its epoch to other commits ${pending.redone} times`,
    });
    return;
  }
  await proposeLocked(ctx, conversation, intent, pending.redone + 1);
}

/**
 * A removal took effect: the removed can still read the group's queue (not decrypt it), so the
 * group moves to a new one, announced in the current epoch, which the removed cannot decrypt. We
 * move when the announcement's echo shows that it counted (own-echo.ts).
 */
async function moveGroupLocked(ctx: ClientContext, conversation: GroupConversationRecord): Promise<void> {
  const fresh = (await ctx.relay(conversation.receive.relay).createQueue({ broadcast: true })) as GroupQueue;
  const state = await loadState(ctx, conversation.groupId);
  const id = randomId(ctx);
  const sentAt = ctx.sealingTime();
  const body = { type: "group-queue" as const, queue: fresh };
  const sealed = await encryptContent(ctx, state, body, id, sentAt);
  const digest = toHex(await ctx.crypto.sha256(sealed.message));
  const batch = ctx.repo.batch();
  ctx.repo.putRoute(batch, fresh.queueId, { kind: "conversation", conversationId: conversation.id });
  saveState(ctx, batch, conversation.groupId, sealed.state);
  ctx.repo.markPayloadSeen(batch, conversation.id, digest);
  putGroupSent(batch, conversation.id, digest, {
    epoch: sealed.state.epoch.toString(),
    id,
    sentAt,
    body,
    order: orderKey(ctx, id, sentAt),
  });
  await commitWithState(ctx, batch, conversation.groupId, sealed.state);
  await publishToGroup(ctx, conversation, [sealed.message], { rescue: true });
}
