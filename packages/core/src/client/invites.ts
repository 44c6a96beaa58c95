/** The invite handshake: a one-time link, claimed once, that starts a 1:1 MLS conversation. */
import {
  formatInviteLink,
  InviteError,
  openInvite,
  parseInviteLink,
  sealInvite,
} from "../messaging/invite-link.js";
import { pad } from "../protocol/padding.js";
import { RelayError } from "../relay-client/errors.js";
import type { DirectConversationRecord } from "../store/records.js";
import { b64, unb64 } from "../store/repository.js";
import { newContact, supersedeConversation } from "./contacts.js";
import { type ClientContext, deviceOf, randomId, requireProfile } from "./context.js";
import { runFollowups } from "./followups/run.js";
import { KEY_PACKAGE_STOCK } from "./key-packages.js";
import { contactView } from "./lookup.js";
import { commitWithState, encryptContent, saveState } from "./mls-state.js";
import type { ContactView } from "./views.js";

/** Creates a one-time invite link. The queue it names becomes this contact's conversation queue. */
export async function createInvite(ctx: ClientContext): Promise<{ link: string; inviteId: string }> {
  const profile = await requireProfile(ctx);
  const relay = ctx.relay(profile.relay);
  const queue = await relay.createQueue();
  const keyPackage = await ctx.engine.createKeyPackage(deviceOf(profile));
  const key = ctx.crypto.randomBytes(32);
  const sealed = await sealInvite(ctx.crypto, key, {
    v: 1,
    name: profile.name,
    sendId: queue.sendId,
    keyPackage: b64(keyPackage.publicMessage),
  });
  const inviteId = await relay.createInvite(sealed);
  await ctx.lock.run(async () => {
    const batch = ctx.repo.batch();
    ctx.repo.putInvite(batch, {
      queue,
      inviteId,
      keyPackage: { publicMessage: b64(keyPackage.publicMessage), privateKey: b64(keyPackage.privateKey) },
      createdAt: ctx.now(),
    });
    ctx.repo.putRoute(batch, queue.queueId, { kind: "invite", queueId: queue.queueId });
    await ctx.repo.commit(batch);
  });
  return { link: formatInviteLink({ relay: relay.baseUrl, inviteId, key }), inviteId };
}

const gone = (e: unknown) =>
  e instanceof RelayError && e.code === "invite_gone"
    ? new InviteError("this invite was already used or has expired: ask for a new one", "gone")
    : e;

/** Accepts an invite link: claims it (single use), starts the MLS group and introduces us. */
export async function acceptInvite(ctx: ClientContext, link: string): Promise<ContactView> {
  const parsed = parseInviteLink(link);
  const profile = await requireProfile(ctx);
  const inviterRelay = ctx.relay(parsed.relay);
  // Opened before it is claimed: a link with a mistyped key fails here and leaves the invite
  // usable, instead of using it up on the relay and then failing.
  const peeked = await inviterRelay.peekInvite(parsed.inviteId).catch((e) => {
    throw gone(e);
  });
  await openInvite(ctx.crypto, parsed.key, peeked).catch((e) => {
    throw e instanceof InviteError && e.reason === "wrong_key"
      ? new InviteError(
          "this link's key does not open the invite: check that the whole link was copied (the invite is still unused)",
          "wrong_key",
        )
      : e;
  });
  const sealed = await inviterRelay.claimInvite(parsed.inviteId).catch((e) => {
    throw gone(e);
  });
  const payload = await openInvite(ctx.crypto, parsed.key, sealed);
  const inviter = await ctx.engine.inspectKeyPackage(unb64(payload.keyPackage)).catch((e: Error) => {
    throw new InviteError(`invite rejected: ${e.message}`);
  });
  if (b64(inviter.identityKey) === profile.identityPublicKey) {
    throw new InviteError("this is your own invite: send it to the person you want to talk to", "own_invite");
  }
  const ownQueue = await ctx.relay(profile.relay).createQueue();
  const device = deviceOf(profile);

  const view = await ctx.lock.run(async () => {
    const groupId = ctx.crypto.randomBytes(32);
    const self = await ctx.engine.createKeyPackage(device);
    let state = await ctx.engine.createGroup(groupId, device, self);
    const added = await ctx.engine.addMembers(state, [unb64(payload.keyPackage)]);
    state = added.state;
    const intro = await encryptContent(ctx, state, { type: "intro", name: profile.name, replyTo: ownQueue });
    state = intro.state;

    const conversationId = randomId(ctx);
    const { contact, previousConversationId } = await newContact(
      ctx,
      b64(inviter.identityKey),
      payload.name,
      true,
      conversationId,
    );
    const conversation: DirectConversationRecord = {
      id: conversationId,
      kind: "direct",
      groupId: b64(groupId),
      receive: ownQueue,
      sendTo: { relay: parsed.relay, sendId: payload.sendId },
      contactId: contact.id,
      createdAt: ctx.now(),
    };
    const batch = ctx.repo.batch();
    ctx.repo.putContact(batch, contact);
    ctx.repo.putConversation(batch, conversation);
    if (previousConversationId)
      await supersedeConversation(ctx, batch, previousConversationId, conversation.id);
    ctx.repo.putRoute(batch, ownQueue.queueId, { kind: "conversation", conversationId: conversation.id });
    saveState(ctx, batch, conversation.groupId, state);
    await commitWithState(ctx, batch, conversation.groupId, state);

    // Welcome first, then the intro: the relay keeps a queue's order.
    await inviterRelay.send(payload.sendId, pad(added.welcome));
    await inviterRelay.send(payload.sendId, pad(intro.message));
    return contactView(contact, conversation);
  });
  await runFollowups(ctx, [
    { kind: "key-packages", conversationId: view.conversationId, count: KEY_PACKAGE_STOCK },
    { kind: "profile-photo", conversationId: view.conversationId },
  ]);
  return view;
}
