/**
 * `group-readd`: a member asks us, an admin, to re-add its device to a group it can no longer
 * follow (client/groups/dead-epoch.ts). Taken only when we are an admin of the group, the KeyPackage
 * is the contact's own and of the group's suite, and that very device is still in the group: a
 * re-add restores a member, it never brings back someone who was removed or left. The commit itself
 * (the device's old leaf out, the new KeyPackage in, one commit) runs as a follow-up.
 */

import { MLS_CIPHERSUITE_IDS } from "../../../crypto/provider.js";
import { keyPackageCipherSuiteId } from "../../../mls/engine.js";
import { b64, unb64 } from "../../../store/repository.js";
import { requireProfile } from "../../context.js";
import { conversationOfGroup } from "../../lookup.js";
import { keyPackageId, loadState } from "../../mls-state.js";
import { reject } from "../rejection.js";
import { type ContentHandler, nothing } from "../types.js";

export const groupReadd: ContentHandler<"group-readd"> = {
  async direct({ ctx, conversation: via, contact, body }) {
    const group = await conversationOfGroup(ctx, body.groupId);
    // Not a group we are in (any more): nothing of ours to re-add them to.
    if (group?.kind !== "group" || group.status !== "active") return nothing();
    const self = (await requireProfile(ctx)).identityPublicKey;
    if (!group.admins.includes(self)) return nothing(); // demoted meanwhile: another admin's to do
    const keyPackage = unb64(body.keyPackage);
    const member = await ctx.engine.inspectKeyPackage(keyPackage).catch(() => undefined);
    if (!member || b64(member.identityKey) !== contact.identityKey)
      return reject({ reason: "foreign_key_package", conversationId: via.id });
    const state = await loadState(ctx, group.groupId);
    if (keyPackageCipherSuiteId(keyPackage) !== MLS_CIPHERSUITE_IDS[ctx.engine.cipherSuiteOf(state)])
      return reject({ reason: "foreign_key_package", conversationId: via.id });
    const device = b64(member.deviceKey);
    const present = ctx.engine
      .members(state)
      .some((m) => b64(m.deviceKey) === device && b64(m.identityKey) === contact.identityKey);
    if (!present) return nothing(); // removed, or left: a re-add is no way back in
    return {
      events: [],
      followups: [
        {
          kind: "group-readd",
          conversationId: group.id,
          readd: {
            contactId: contact.id,
            ref: await keyPackageId(ctx, keyPackage),
            keyPackage: body.keyPackage,
            deviceKey: device,
          },
        },
      ],
    };
  },
};
