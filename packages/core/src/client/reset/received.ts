/**
 * The receiving side of a key reset (issue 13; the sending side is reset.ts). A person who resets
 * commits, in every conversation, a new leaf: a new device key certified by a new identity key. The
 * commit is signed with the old device key, so it is theirs as much as anything before it was.
 *
 * When such a commit is processed, the old device key is recorded as replaced (KeyResetsRecord),
 * with the identity key that replaced it. From then on, in every conversation:
 *  - an application message or commit signed with the old device key is refused (`revoked_device`):
 *    that is what a copy of their old device state (an attacker's) sends, in an epoch still kept for
 *    late messages, or in a group whose reset commit has not come yet;
 *  - a commit by the old device key that gives its leaf any identity other than the one recorded is
 *    refused too: the copy holds the old keys and could make a "reset" of its own, but not one to
 *    the real new identity, whose key it does not have. (Whichever reset a member sees first wins for
 *    that member: see docs/threat-model.md.)
 * A contact whose identity key is replaced is told (`key-reset`), keeps their history (their old
 * key is listed in previousIdentityKeys), loses their verified mark, and, if they were verified,
 * is not written to until the change is accepted (contacts.ts acceptKeyChange). The KeyPackages of
 * theirs we held (for their old device) are dropped.
 */
import type { GroupState, IncomingMessage, Member } from "../../mls/engine.js";
import type { Batch } from "../../store/batch.js";
import type { ContactRecord, ConversationRecord, KeyResetsRecord } from "../../store/records.js";
import { b64 } from "../../store/repository.js";
import type { ClientContext } from "../context.js";
import type { ClientEvent } from "../events.js";
import { reject } from "../inbox/rejection.js";
import { contactView, person } from "../lookup.js";

/**
 * Checks a processed message against the key resets this device knows, and records a new one.
 * Throws a `revoked_device` rejection; returns the events of a reset it learnt of.
 */
export async function checkKeyReset(
  ctx: ClientContext,
  batch: Batch,
  conversation: ConversationRecord,
  result: IncomingMessage,
): Promise<ClientEvent[]> {
  if (result.kind === "removed" || result.sender === undefined) return [];
  const sender = result.sender;
  const resets = await ctx.repo.keyResets();
  const known = resets[b64(sender.deviceKey)];
  const now = result.kind === "commit" ? leafAfter(ctx, result.state, sender) : undefined;
  const replaced = now !== undefined && b64(now.deviceKey) !== b64(sender.deviceKey);
  if (known && (known.revoked || !(replaced && b64(now.identityKey) === known.replacedBy))) {
    return reject({
      reason: "revoked_device",
      conversationId: conversation.id,
      by: await person(ctx, conversation.id, b64(sender.identityKey)),
    });
  }
  // Leaves of their own they removed (a revoked device; at a reset, their other devices).
  const revoked = result.kind === "commit" ? revokedDevices(result, sender) : [];
  const next: KeyResetsRecord = { ...resets };
  for (const m of revoked)
    next[b64(m.deviceKey)] = { replacedBy: b64(m.identityKey), at: ctx.now(), revoked: true };
  if (revoked.length > 0) ctx.repo.putKeyResets(batch, next);
  if (!replaced || known) return [];
  next[b64(sender.deviceKey)] = { replacedBy: b64(now.identityKey), at: ctx.now() };
  ctx.repo.putKeyResets(batch, next);
  if (b64(now.identityKey) === b64(sender.identityKey)) return [];
  return contactReset(ctx, batch, b64(sender.identityKey), b64(now.identityKey));
}

/**
 * Leaves a person removed of their own (a device they revoked, docs/devices.md): whatever those
 * device keys sign from now on is refused everywhere — in an epoch still kept for late messages
 * too, which MLS alone would accept.
 */
function revokedDevices(result: Extract<IncomingMessage, { kind: "commit" }>, sender: Member): Member[] {
  return result.removed.filter((m) => b64(m.identityKey) === b64(sender.identityKey));
}

function leafAfter(ctx: ClientContext, state: GroupState, sender: Member): Member | undefined {
  return ctx.engine.members(state).find((m) => m.leafIndex === sender.leafIndex);
}

/** The contact who had `oldKey` now has `newKey`: told, unverified, their old KeyPackages dropped. */
async function contactReset(
  ctx: ClientContext,
  batch: Batch,
  oldKey: string,
  newKey: string,
): Promise<ClientEvent[]> {
  const contact = (await ctx.repo.contacts()).find((c) => c.identityKey === oldKey);
  if (!contact) return [];
  const changed: ContactRecord = {
    ...contact,
    identityKey: newKey,
    previousIdentityKeys: [...(contact.previousIdentityKeys ?? []), oldKey],
    keyChanged: true,
    verified: false,
    ...(contact.verified || contact.mustAccept ? { mustAccept: true as const } : {}),
  };
  ctx.repo.putContact(batch, changed);
  for (const [ref] of await ctx.repo.theirKeyPackages(contact.id))
    ctx.repo.deleteTheirKeyPackage(batch, contact.id, ref);
  const conversation = await ctx.repo.conversation(contact.conversationId);
  const direct = conversation?.kind === "direct" ? conversation : undefined;
  return [{ type: "contact", contact: contactView(changed, direct), change: "key-reset" }];
}
