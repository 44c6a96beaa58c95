/**
 * Becoming a new device of an existing profile (`parley init --link LINK`; docs/devices.md):
 *
 *  1. `beginDeviceLink`: the link's blob is checked, then claimed (single use); a reply queue and an
 *     ephemeral X25519 key are made; the hello goes to the link queue. The short code is shown;
 *  2. `finishDeviceLink`: once the person confirmed the code on the existing device, the profile
 *     arrives (identity key pair, name, relay, contacts); this device makes its own device key,
 *     certified here by the identity key, and one KeyPackage per conversation, and sends them back;
 *     then the Welcomes arrive, and it joins every conversation, reading on after its add commit;
 *     the history follows if the existing device sends it (link-history.ts), stored in the same write.
 *
 * Nothing is stored before step 2 has everything: a link that fails part-way leaves no profile.
 */
import type { SendAddress } from "../../content/common.js";
import type { MlsCiphersuiteName } from "../../crypto/provider.js";
import { ParleyError } from "../../errors.js";
import { certifyDevice } from "../../identity/identity-key.js";
import {
  ephemeralKey,
  LinkError,
  type LinkedConversation,
  linkSecrets,
  openLinkBlob,
  openLinkStep,
  parseDeviceLink,
  sealHello,
  sealLinkStep,
} from "../../messaging/device-link.js";
import { decodeGroupMetadata, type GroupMetadata } from "../../messaging/group-metadata.js";
import type { KeyPackageBundle } from "../../mls/engine.js";
import { RelayError } from "../../relay-client/errors.js";
import type { QueueCredentials } from "../../relay-client/signing.js";
import type { ConversationRecord, ProfileRecord } from "../../store/records.js";
import { b64, unb64 } from "../../store/repository.js";
import type { ClientContext } from "../context.js";
import { runFollowups } from "../followups/run.js";
import { KEY_PACKAGE_STOCK } from "../key-packages.js";
import { saveState } from "../mls-state.js";
import { parseName } from "../names.js";
import { putHistory, receiveHistory } from "./link-history.js";
import { LINK_STEP_TIMEOUT_MS, nextOnQueue, sendStep } from "./link-queue.js";

export interface PendingDeviceLink {
  /** The short code: the person checks that the existing device shows the same. */
  code: string;
  device: string;
  key: Uint8Array;
  reply: QueueCredentials;
  linkQueue: SendAddress;
}

export interface DeviceLinkResult {
  profile: ProfileRecord;
  /** Conversations and groups this device is now in. */
  joined: string[];
  /** Those the existing device could not add it to, with why. */
  skipped: { id: string; cause: string }[];
  /** The history the existing device sent (`--with-history`): messages and posts stored. */
  history?: { messages: number; posts: number };
}

export async function beginDeviceLink(
  ctx: ClientContext,
  link: string,
  deviceName: string,
): Promise<PendingDeviceLink> {
  const device = parseName(deviceName);
  if (await ctx.repo.profile()) throw new ParleyError("exists", {});
  const parsed = parseDeviceLink(link);
  const relay = ctx.relay(parsed.relay);
  const gone = (e: unknown) =>
    e instanceof RelayError && e.code === "invite_gone"
      ? new LinkError("this link was already used or has expired: make a new one", "gone")
      : e;
  // Opened before it is claimed: a mistyped key fails here and leaves the link usable.
  await openLinkBlob(
    ctx.crypto,
    parsed.key,
    await relay.peekInvite(parsed.inviteId).catch((e) => {
      throw gone(e);
    }),
  );
  const blob = await openLinkBlob(
    ctx.crypto,
    parsed.key,
    await relay.claimInvite(parsed.inviteId).catch((e) => {
      throw gone(e);
    }),
  );
  const existing = unb64(blob.ephemeral);
  const own = ephemeralKey(ctx.crypto);
  const { key, code } = await linkSecrets(
    ctx.crypto,
    parsed.inviteId,
    own,
    existing,
    existing,
    own.publicKey,
  );
  const reply = await relay.createQueue();
  const linkQueue = { relay: parsed.relay, sendId: blob.sendId };
  await sendStep(
    ctx,
    linkQueue,
    await sealHello(ctx.crypto, key, own.publicKey, {
      v: 1,
      step: "hello",
      device,
      reply: { relay: reply.relay, sendId: reply.sendId },
    }),
  );
  return { code, device, key, reply, linkQueue };
}

export async function finishDeviceLink(
  ctx: ClientContext,
  pending: PendingDeviceLink,
  timeoutMs = LINK_STEP_TIMEOUT_MS,
): Promise<DeviceLinkResult> {
  const { key } = pending;
  try {
    const profileStep = await openLinkStep(
      ctx.crypto,
      key,
      await nextOnQueue(ctx, pending.reply, timeoutMs, "linking"),
      "profile",
    );
    const identity = {
      publicKey: unb64(profileStep.identityPublicKey),
      secretKey: unb64(profileStep.identitySecretKey),
    };
    const device = await certifyDevice(ctx.crypto, identity);
    const bundles = new Map<string, KeyPackageBundle>();
    const keyPackages: Record<string, string> = {};
    for (const [id, suite] of Object.entries(profileStep.suites)) {
      const kp = await ctx.engine.createKeyPackage(device, { cipherSuite: suite as MlsCiphersuiteName });
      bundles.set(id, kp);
      keyPackages[id] = b64(kp.publicMessage);
    }
    await sendStep(
      ctx,
      pending.linkQueue,
      await sealLinkStep(ctx.crypto, key, {
        v: 1,
        step: "key-packages",
        deviceKey: b64(device.deviceKey),
        keyPackages,
      }),
    );
    const done = await openLinkStep(
      ctx.crypto,
      key,
      await nextOnQueue(ctx, pending.reply, timeoutMs, "linking"),
      "conversations",
    );
    // With history, every chunk arrives and is checked before anything is stored.
    const history = done.history
      ? await receiveHistory(ctx, key, pending.reply, done.conversations, timeoutMs)
      : undefined;
    const stored = { messages: 0, posts: 0 };
    const profile: ProfileRecord = {
      v: 1,
      name: profileStep.name,
      relay: profileStep.relay,
      identityPublicKey: profileStep.identityPublicKey,
      identitySecretKey: profileStep.identitySecretKey,
      deviceKey: b64(device.deviceKey),
      deviceSecretKey: b64(device.deviceSecretKey),
      certificate: b64(device.certificate),
      createdAt: ctx.now(),
      deviceName: pending.device,
    };
    const joined: string[] = [];
    const skipped = [...done.skipped];
    await ctx.lock.run(async () => {
      if (await ctx.repo.profile()) throw new ParleyError("exists", {});
      const batch = ctx.repo.batch();
      ctx.repo.putProfile(batch, profile);
      ctx.repo.putDevices(batch, {
        ...profileStep.devices,
        [profile.deviceKey]: { name: pending.device, addedAt: ctx.now() },
      });
      for (const c of profileStep.contacts) ctx.repo.putContact(batch, c);
      const states: [string, Awaited<ReturnType<typeof ctx.engine.joinFromWelcome>>][] = [];
      for (const linked of done.conversations) {
        const bundle = bundles.get(linked.id);
        try {
          if (!bundle) throw new LinkError("no KeyPackage of ours was made for it");
          const state = await ctx.engine.joinFromWelcome(unb64(linked.welcome), bundle);
          const meta = decodeGroupMetadata(ctx.engine.metadata(state));
          if (linked.kind === "group" && !meta) throw new LinkError("a group without its metadata");
          let record = conversationRecord(linked, b64(state.groupId), ctx.now(), meta);
          if (history) {
            const put = putHistory(ctx, batch, record, history);
            stored.messages += put.messages;
            stored.posts += put.posts;
            if (put.newest !== undefined) record = { ...record, readUpTo: put.newest };
          }
          ctx.repo.putConversation(batch, record);
          ctx.repo.putRoute(batch, record.receive.queueId, {
            kind: "conversation",
            conversationId: record.id,
          });
          // Our membership starts after the commit that added us; older messages are not for us.
          if (linked.cursor) ctx.repo.putCursor(batch, record.receive.queueId, linked.cursor);
          saveState(ctx, batch, record.groupId, state);
          states.push([record.groupId, state]);
          if (!linked.self) joined.push(linked.id); // our devices' own group aside
        } catch (e) {
          skipped.push({ id: linked.id, cause: (e as Error).message });
        }
      }
      // The profile and every joined conversation in one write.
      await ctx.repo.commit(batch);
      for (const [groupId, state] of states) ctx.repo.groupStateSaved(groupId, state.epoch);
    });
    // Our contacts get KeyPackages of this device too, so that adding us to a group adds every
    // device of ours (groups/admin.ts takes one of each).
    const direct = done.conversations.filter((c) => c.kind === "direct" && joined.includes(c.id));
    await runFollowups(
      ctx,
      direct.map((c) => ({ kind: "key-packages", conversationId: c.id, count: KEY_PACKAGE_STOCK })),
    );
    return { profile, joined, skipped, ...(history ? { history: stored } : {}) };
  } finally {
    await ctx
      .relay(pending.reply.relay)
      .deleteQueue(pending.reply)
      .catch(() => undefined);
  }
}

function conversationRecord(
  linked: LinkedConversation,
  groupId: string,
  now: number,
  meta: GroupMetadata | undefined,
): ConversationRecord {
  const timer = {
    ...(linked.expireAfter !== undefined ? { expireAfter: linked.expireAfter } : {}),
    ...(linked.expireSince !== undefined ? { expireSince: linked.expireSince } : {}),
    ...(linked.expireSetAt !== undefined ? { expireSetAt: linked.expireSetAt } : {}),
  };
  if (linked.kind === "direct") {
    if (!linked.contactId) throw new LinkError("a 1:1 chat without its contact");
    return {
      id: linked.id,
      kind: "direct",
      groupId,
      receive: linked.receive,
      sendTo: linked.sendTo,
      contactId: linked.contactId,
      createdAt: linked.createdAt ?? now,
      ...timer,
    };
  }
  return {
    id: linked.id,
    kind: "group",
    groupId,
    receive: linked.receive,
    sendTo: linked.sendTo,
    name: meta?.name ?? linked.name ?? "",
    admins: meta?.admins ?? [],
    previousQueues: [],
    status: "active",
    createdAt: linked.createdAt ?? now,
    ...(linked.feed ? { feed: true as const } : {}),
    ...(linked.self ? { self: true as const } : {}),
    ...timer,
  };
}
