/**
 * `group-invite`: join a group an admin added us to. The security rules of issue 7 live here:
 * the inviter must be an admin of the group as the Welcome describes it, and an invite never
 * replaces a conversation we have (a group id is no secret) — only a group we are no longer in may
 * be re-joined, and only on the word of one of its admins as we last knew them.
 */
import { decodeGroupMetadata, isAdmin } from "../../../messaging/group-metadata.js";
import { type GroupState, MlsProcessingError } from "../../../mls/engine.js";
import { putKeySchedule } from "../../../store/group-order.js";
import { b64, unb64 } from "../../../store/repository.js";
import type { ClientContext } from "../../context.js";
import { joinedGroup, putJoinedGroup, rejoinRefusal } from "../../groups/joined.js";
import { freshSchedule } from "../../groups/key-schedule.js";
import { contactRef, conversationOfGroup } from "../../lookup.js";
import { reject } from "../rejection.js";
import type { ContentHandler } from "../types.js";

export const groupInvite: ContentHandler<"group-invite"> = {
  async direct({ ctx, batch, conversation: via, contact: inviter, body: invite }) {
    // Ours is one of the KeyPackages it names (the others are our other devices').
    const mine = await ownKeyPackageOf(ctx, [invite.keyPackageRef, ...(invite.keyPackageRefs ?? [])]);
    if (!mine) return reject({ reason: "unknown_key_package", conversationId: via.id });
    const { ref, own } = mine;
    let state: GroupState;
    try {
      state = await ctx.engine.joinFromWelcome(unb64(invite.welcome), {
        publicMessage: unb64(own.publicMessage),
        privateKey: unb64(own.privateKey),
      });
    } catch (e) {
      throw new MlsProcessingError(`group invite rejected: ${(e as Error).message}`);
    }
    const meta = decodeGroupMetadata(ctx.engine.metadata(state));
    if (!meta) return reject({ reason: "group_without_metadata", conversationId: via.id });
    // Whoever adds must be an admin: the other members would reject the commit anyway.
    if (!isAdmin(meta, inviter.identityKey)) {
      return reject({ reason: "inviter_not_admin", inviter: contactRef(inviter), group: meta.name });
    }
    const groupId = b64(state.groupId);
    const existing = await conversationOfGroup(ctx, groupId);
    // Never a conversation we have replaced; a group we left re-joined only on an admin's word.
    const refusal = rejoinRefusal(existing, inviter.identityKey, contactRef(inviter));
    if (refusal) return reject(refusal);
    const conversation = joinedGroup(ctx, existing, groupId, invite.queue, meta);
    // Used once and gone — but for our last-resort KeyPackage, which the inviter may use again until
    // our replacement reaches them (client/key-packages.ts).
    if (!own.lastResort) ctx.repo.deleteOwnKeyPackage(batch, ref);
    // Its leaf key is the same in every group joined with it: a fresh UpdatePath here at our next sync.
    else putKeySchedule(batch, conversation.id, { ...freshSchedule(ctx), dueMessages: 0 });
    putJoinedGroup(ctx, batch, conversation, state, invite.cursor);
    return {
      events: [
        {
          type: "group",
          conversationId: conversation.id,
          name: meta.name,
          change: "joined",
          by: contactRef(inviter),
        },
      ],
      followups: [
        // One more KeyPackage of the suite the inviter just used.
        {
          kind: "key-packages",
          conversationId: via.id,
          count: 1,
          cipherSuites: [ctx.engine.cipherSuiteOf(state)],
          ...(own.lastResort ? { retire: ref } : {}),
        },
        { kind: "group-profile", conversationId: conversation.id },
      ],
      saved: { groupId, epoch: state.epoch },
    };
  },
};

async function ownKeyPackageOf(ctx: ClientContext, refs: string[]) {
  for (const ref of refs) {
    const own = await ctx.repo.ownKeyPackage(ref);
    if (own) return { ref, own };
  }
  return undefined;
}
