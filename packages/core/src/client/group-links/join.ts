/**
 * Opening a group link (messaging/group-link.ts): the joiner peeks the sealed payload (never claims
 * it: the link stays usable for others), and sends the admin's join queue a request sealed with the
 * link's key — its name, a KeyPackage of the group's cipher suite, and a queue of its own where the
 * answer comes, with a fresh key to seal that answer. Nothing else is needed: the admin need not be
 * a contact. The relay sees a peek and one padded message to a queue.
 */
import { MLS_CIPHERSUITE_IDS, type MlsCiphersuiteName } from "../../crypto/provider.js";
import { ParleyError } from "../../errors.js";
import { openGroupLinkPart, parseGroupLink, sealGroupLinkPart } from "../../messaging/group-link.js";
import { InviteError } from "../../messaging/invite-link.js";
import { pad } from "../../protocol/padding.js";
import { RelayError } from "../../relay-client/errors.js";
import { putGroupJoin } from "../../store/group-links.js";
import { b64 } from "../../store/repository.js";
import { type ClientContext, deviceOf, requireProfile } from "../context.js";
import { conversationOfGroup } from "../lookup.js";

export interface JoinRequestedView {
  group: string;
  /** Whether an admin has to approve first (else the admin's client adds us when it next runs). */
  approve: boolean;
  expiresAt: string | null;
}

export async function joinGroupByLink(ctx: ClientContext, link: string): Promise<JoinRequestedView> {
  const parsed = parseGroupLink(link);
  const profile = await requireProfile(ctx);
  const linkRelay = ctx.relay(parsed.relay);
  const sealed = await linkRelay.peekInvite(parsed.inviteId).catch((e) => {
    throw e instanceof RelayError && e.code === "invite_gone"
      ? new InviteError("this group link was revoked or has expired: ask for a new one", "gone")
      : e;
  });
  const payload = await openGroupLinkPart(ctx.crypto, "link", parsed.key, sealed);
  if (payload.expiresAt !== undefined && payload.expiresAt <= ctx.now()) {
    throw new InviteError("this group link has expired: ask for a new one", "gone");
  }
  if (payload.admin === profile.identityPublicKey) {
    throw new InviteError(
      "this is your own group link: send it to the people you want in the group",
      "own_invite",
    );
  }
  const existing = await conversationOfGroup(ctx, payload.groupId);
  if (existing?.kind === "group" && existing.status === "active") {
    throw new ParleyError("already_in_group", { group: existing.name });
  }
  const suite = (Object.entries(MLS_CIPHERSUITE_IDS) as [MlsCiphersuiteName, number][]).find(
    ([, id]) => id === payload.suite,
  );
  if (!suite) throw new InviteError("this group uses a cipher suite this version of Parley does not speak");
  const keyPackage = await ctx.engine.createKeyPackage(deviceOf(profile), { cipherSuite: suite[0] });
  const queue = await ctx.relay(profile.relay).createQueue();
  const replyKey = ctx.crypto.randomBytes(32);
  // Stored before the request leaves: an answer never arrives for a request we forgot.
  await ctx.lock.run(async () => {
    const batch = putGroupJoin(ctx.repo.batch(), {
      queue,
      keyPackage: { publicMessage: b64(keyPackage.publicMessage), privateKey: b64(keyPackage.privateKey) },
      replyKey: b64(replyKey),
      groupId: payload.groupId,
      admin: payload.admin,
      group: payload.group,
      createdAt: ctx.now(),
    });
    ctx.repo.putRoute(batch, queue.queueId, { kind: "group-join", queueId: queue.queueId });
    await ctx.repo.commit(batch);
  });
  const request = await sealGroupLinkPart(ctx.crypto, "request", parsed.key, {
    v: 1,
    name: profile.name,
    keyPackage: b64(keyPackage.publicMessage),
    reply: { relay: queue.relay, sendId: queue.sendId },
    replyKey: b64(replyKey),
  });
  await linkRelay.send(payload.sendId, pad(request)).catch((e) => {
    throw e instanceof RelayError && e.code === "unknown_queue"
      ? new InviteError("this group link was revoked: ask for a new one", "gone")
      : e;
  });
  return {
    group: payload.group,
    approve: payload.approve,
    expiresAt: payload.expiresAt === undefined ? null : new Date(payload.expiresAt).toISOString(),
  };
}
