/**
 * Linking a new device, on a device that has the profile (docs/devices.md, "Linking"):
 *
 *  1. `createDeviceLink`: a unicast link queue, an ephemeral X25519 key, both sealed into an
 *     invite-like blob on the relay; the link names the blob and the key that opens it;
 *  2. `awaitLinkRequest`: the new device's hello arrives on the link queue; both devices now know
 *     the step key and the short code, which the person compares;
 *  3. `completeLink`, only once the person confirmed the code: the identity key pair, the profile,
 *     the contacts and each conversation's cipher suite go to the new device, sealed; its
 *     KeyPackages come back; its leaf is added to every conversation and group we take part in;
 *     each conversation's Welcome and queues go to it; the link queue is deleted; with
 *     `withHistory`, the history of those conversations follows (link-history.ts).
 *
 * The session lives in memory: a link not completed in the process that made it is abandoned
 * (its queue and blob expire on the relay); nothing of it is stored until the person confirms.
 */

import type { SendAddress } from "../../content/common.js";
import type { Body } from "../../content/index.js";
import { ParleyError } from "../../errors.js";
import {
  type EphemeralKey,
  ephemeralKey,
  formatDeviceLink,
  LinkError,
  type LinkedConversation,
  linkSecrets,
  openLinkStep,
  sealLinkBlob,
  sealLinkStep,
  splitHello,
} from "../../messaging/device-link.js";
import { pad } from "../../protocol/padding.js";
import type { QueueCredentials } from "../../relay-client/signing.js";
import { deleteLinkWelcome, linkWelcome } from "../../store/group-order.js";
import type { ConversationRecord, DirectConversationRecord } from "../../store/records.js";
import { b64, unb64 } from "../../store/repository.js";
import { type ClientContext, requireProfile } from "../context.js";
import type { ClientEvent } from "../events.js";
import { runFollowups } from "../followups/run.js";
import type { Followup } from "../followups/types.js";
import { commitChange } from "../groups/commit-order.js";
import { isBroadcast } from "../inbox/receive.js";
import { requireConversation } from "../lookup.js";
import { commitWithState, encryptContent, loadState, saveState } from "../mls-state.js";
import { takesPart } from "../reset/reset.js";
import { drainQueue, sync } from "../sync.js";
import { commitInSharedChat } from "./direct-order.js";
import { type HistorySent, sendHistory } from "./link-history.js";
import { LINK_STEP_TIMEOUT_MS, nextOnQueue, sendStep } from "./link-queue.js";
import { ensureSelfGroup } from "./self-group.js";

export interface LinkOffer {
  link: string;
  inviteId: string;
  queue: QueueCredentials;
  ephemeral: EphemeralKey;
}

export interface LinkRequest {
  offer: LinkOffer;
  /** The short code the new device shows too: the person compares them before `completeLink`. */
  code: string;
  /** The name the new device gave itself. */
  device: string;
  key: Uint8Array;
  reply: SendAddress;
}

export interface LinkResult {
  device: { name: string; deviceKey: string };
  /** Conversations and groups the new device is now in. */
  linked: string[];
  /** Those it could not be added to, with why (run again after `parley device revoke` + link). */
  skipped: { id: string; cause: string }[];
  events: ClientEvent[];
  /** With `withHistory`: what of the history went to the new device (link-history.ts). */
  history?: HistorySent;
}

export interface CompleteLinkOptions {
  /** Send the history of every conversation the new device joined (`--with-history`). */
  withHistory?: boolean;
  /** Bytes of records per history chunk (HISTORY_CHUNK_BYTES); smaller in tests, for many chunks. */
  historyChunkBytes?: number;
}

export async function createDeviceLink(ctx: ClientContext): Promise<LinkOffer> {
  const profile = await requireProfile(ctx);
  const relay = ctx.relay(profile.relay);
  const queue = await relay.createQueue();
  const ephemeral = ephemeralKey(ctx.crypto);
  const key = ctx.crypto.randomBytes(32);
  const blob = await sealLinkBlob(ctx.crypto, key, {
    v: 1,
    kind: "device-link",
    sendId: queue.sendId,
    ephemeral: b64(ephemeral.publicKey),
  });
  const inviteId = await relay.createInvite(blob);
  return { link: formatDeviceLink({ relay: relay.baseUrl, inviteId, key }), inviteId, queue, ephemeral };
}

/** Waits for the new device's hello; the code it returns is to be compared by the person. */
export async function awaitLinkRequest(
  ctx: ClientContext,
  offer: LinkOffer,
  timeoutMs = LINK_STEP_TIMEOUT_MS,
): Promise<LinkRequest> {
  const bytes = await nextOnQueue(ctx, offer.queue, timeoutMs, "linking");
  const { ephemeral, sealed } = splitHello(bytes);
  const { key, code } = await linkSecrets(
    ctx.crypto,
    offer.inviteId,
    offer.ephemeral,
    ephemeral,
    offer.ephemeral.publicKey,
    ephemeral,
  );
  const hello = await openLinkStep(ctx.crypto, key, sealed, "hello");
  return { offer, code, device: hello.device, key, reply: hello.reply };
}

/** Gives up a link: its queue is deleted (the blob, claimed or not, expires on the relay). */
export async function cancelDeviceLink(ctx: ClientContext, offer: LinkOffer): Promise<void> {
  await ctx
    .relay(offer.queue.relay)
    .deleteQueue(offer.queue)
    .catch(() => undefined);
}

/**
 * After the person confirmed the short code: the new device becomes one of ours (see above).
 * `confirmedCode` must be the request's code — the caller passes what the person typed or agreed to.
 */
export async function completeLink(
  ctx: ClientContext,
  request: LinkRequest,
  confirmedCode: string,
  timeoutMs = LINK_STEP_TIMEOUT_MS,
  options: CompleteLinkOptions = {},
): Promise<LinkResult> {
  if (confirmedCode.trim() !== request.code) {
    await cancelDeviceLink(ctx, request.offer);
    throw new ParleyError("link_code_mismatch", {});
  }
  // What waits on the relay is read first: the conversations are at their newest epoch.
  const events = await sync(ctx);
  // Our devices' own group, for what they tell each other (self-group.ts): the new one joins it.
  await ensureSelfGroup(ctx);
  const profile = await requireProfile(ctx);
  const conversations = (await ctx.repo.conversations()).filter(takesPart);
  const suites: Record<string, string> = {};
  for (const c of conversations) suites[c.id] = ctx.engine.cipherSuiteOf(await loadState(ctx, c.groupId));
  const devices = await ownDevices(ctx);
  await sendStep(
    ctx,
    request.reply,
    await sealLinkStep(ctx.crypto, request.key, {
      v: 1,
      step: "profile",
      name: profile.name,
      relay: profile.relay,
      identityPublicKey: profile.identityPublicKey,
      identitySecretKey: profile.identitySecretKey,
      contacts: await ctx.repo.contacts(),
      suites,
      devices,
    }),
  );
  const packages = await openLinkStep(
    ctx.crypto,
    request.key,
    await nextOnQueue(ctx, request.offer.queue, timeoutMs, "linking"),
    "key-packages",
  );
  const deviceKey = packages.deviceKey;
  await ctx.lock.run(async () => {
    const batch = ctx.repo.batch();
    const all = await ctx.repo.devices();
    ctx.repo.putDevices(batch, { ...all, [deviceKey]: { name: request.device, addedAt: ctx.now() } });
    await ctx.repo.commit(batch);
  });
  const linked: LinkedConversation[] = [];
  const followups: Followup[] = [];
  const skipped: { id: string; cause: string }[] = [];
  for (const c of conversations) {
    const kp = packages.keyPackages[c.id];
    try {
      if (!kp) throw new LinkError("the new device sent no KeyPackage for it");
      const member = await ctx.engine.inspectKeyPackage(unb64(kp));
      // Its KeyPackages must be of our identity and of the device that said hello.
      if (b64(member.identityKey) !== profile.identityPublicKey || b64(member.deviceKey) !== deviceKey) {
        throw new LinkError("a KeyPackage of the new device is not of this profile's identity");
      }
      linked.push(
        c.kind === "direct"
          ? await addToDirect(ctx, c.id, kp, events, followups)
          : await addToGroup(ctx, c.id, kp, request.offer.inviteId, events),
      );
    } catch (e) {
      skipped.push({ id: c.id, cause: (e as Error).message });
    }
  }
  await sendStep(
    ctx,
    request.reply,
    await sealLinkStep(ctx.crypto, request.key, {
      v: 1,
      step: "conversations",
      conversations: linked,
      skipped,
      ...(options.withHistory ? { history: true as const } : {}),
    }),
  );
  await cancelDeviceLink(ctx, request.offer);
  const history = options.withHistory
    ? await sendHistory(ctx, request.key, request.reply, linked, timeoutMs, options.historyChunkBytes)
    : undefined;
  events.push(...(await runFollowups(ctx, followups)));
  return {
    device: { name: request.device, deviceKey },
    linked: linked.filter((c) => !c.self).map((c) => c.id), // our devices' own group aside
    skipped,
    events,
    ...(history ? { history } : {}),
  };
}

/** Our devices as this one knows them, this one included (it may predate the device list). */
async function ownDevices(ctx: ClientContext) {
  const profile = await requireProfile(ctx);
  const all = await ctx.repo.devices();
  if (all[profile.deviceKey]) return all;
  return { ...all, [profile.deviceKey]: { name: profile.deviceName ?? "", addedAt: profile.createdAt } };
}

/**
 * A 1:1 chat gets the new device: our devices read one queue there, so a chat still on a queue of
 * this device alone first moves to a shared (broadcast) one, announced inside the encryption; then
 * a commit adds the new leaf, through the shared queue's commit order (direct-order.ts: another
 * device of ours may be committing at the same time). The commit goes to the contact once it won;
 * our other devices read it in the shared queue, and the new device reads on from there.
 */
async function addToDirect(
  ctx: ClientContext,
  conversationId: string,
  keyPackage: string,
  events: ClientEvent[],
  followups: Followup[],
): Promise<LinkedConversation> {
  const current = await requireConversation(ctx, conversationId);
  if (!isBroadcast(current.receive)) await moveToSharedQueue(ctx, conversationId, events, followups);
  const kp = await ctx.engine.inspectKeyPackage(unb64(keyPackage));
  const won = await commitInSharedChat(
    ctx,
    conversationId,
    async (state) =>
      ctx.engine.members(state).some((m) => b64(m.deviceKey) === b64(kp.deviceKey))
        ? undefined
        : { changes: { add: [unb64(keyPackage)] } },
    events,
  );
  if (!won?.welcome) throw new LinkError("the chat did not confirm the new device's addition in time");
  const c = await requireConversation(ctx, conversationId);
  if (c.kind !== "direct" || !c.sendTo) throw new LinkError("the contact's address is not known yet");
  return {
    id: c.id,
    kind: "direct",
    welcome: won.welcome,
    receive: won.queue as LinkedConversation["receive"],
    sendTo: c.sendTo,
    ...(won.cursor ? { cursor: won.cursor } : {}),
    contactId: c.contactId,
    createdAt: c.createdAt,
    ...timerOf(c),
  };
}

/**
 * Our side of a 1:1 chat moves from this device's own queue to one our devices share (its address
 * to the contact in a `reply-to`); what the contact sent before it read the move is read from the
 * old queue, which then goes.
 */
async function moveToSharedQueue(
  ctx: ClientContext,
  conversationId: string,
  events: ClientEvent[],
  followups: Followup[],
): Promise<void> {
  const current = await requireConversation(ctx, conversationId);
  const shared = await ctx.relay(current.receive.relay).createQueue({ broadcast: true });
  const old = await ctx.lock.run(async () => {
    const c = (await requireConversation(ctx, conversationId)) as DirectConversationRecord;
    const to = c.sendTo;
    if (!to) throw new LinkError("the contact's address is not known yet");
    if (isBroadcast(c.receive)) return undefined; // moved meanwhile
    const body: Body = { type: "reply-to", replyTo: { relay: shared.relay, sendId: shared.sendId } };
    const moved = await encryptContent(ctx, await loadState(ctx, c.groupId), body);
    const batch = ctx.repo.batch();
    ctx.repo.putConversation(batch, { ...c, receive: shared });
    ctx.repo.putRoute(batch, shared.queueId, { kind: "conversation", conversationId: c.id });
    saveState(ctx, batch, c.groupId, moved.state);
    await commitWithState(ctx, batch, c.groupId, moved.state);
    await ctx.relay(to.relay).send(to.sendId, pad(moved.message));
    return c.receive;
  });
  if (!old) {
    await ctx
      .relay(shared.relay)
      .deleteQueue(shared)
      .catch(() => undefined);
    return;
  }
  await drainQueue(ctx, old, events, followups);
  await ctx
    .relay(old.relay)
    .deleteQueue(old)
    .catch(() => undefined);
}

/** A group gets the new device through commit order (our commit must win its epoch). */
async function addToGroup(
  ctx: ClientContext,
  conversationId: string,
  keyPackage: string,
  link: string,
  events: ClientEvent[],
): Promise<LinkedConversation> {
  events.push(...(await commitChange(ctx, conversationId, { devices: [{ keyPackage, link }] })));
  const welcome = await linkWelcome(ctx.repo, link, conversationId);
  if (!welcome) throw new LinkError("the group did not confirm the new device's addition in time");
  const c = await requireConversation(ctx, conversationId);
  if (c.kind !== "group") throw new ParleyError("corrupt", { what: "group_state" });
  await ctx.lock.run(() => ctx.repo.commit(deleteLinkWelcome(ctx.repo.batch(), link, conversationId)));
  return {
    id: c.id,
    kind: "group",
    welcome: welcome.welcome,
    receive: c.receive as LinkedConversation["receive"],
    sendTo: c.sendTo,
    ...(welcome.cursor ? { cursor: welcome.cursor } : {}),
    name: c.name,
    ...(c.feed ? { feed: true as const } : {}),
    ...(c.self ? { self: true as const } : {}),
    createdAt: c.createdAt,
    ...timerOf(c),
  };
}

/** A conversation's disappearing-messages timer, for the new device to keep (and apply). */
function timerOf(c: ConversationRecord): Partial<LinkedConversation> {
  return {
    ...(c.expireAfter !== undefined ? { expireAfter: c.expireAfter } : {}),
    ...(c.expireSince !== undefined ? { expireSince: c.expireSince } : {}),
    ...(c.expireSetAt !== undefined ? { expireSetAt: c.expireSetAt } : {}),
  };
}
