/** `key-packages`: kept to add the contact to groups; each must be the contact's own. */
import { b64, unb64 } from "../../../store/repository.js";
import { keyPackageId } from "../../mls-state.js";
import { reject } from "../rejection.js";
import { type ContentHandler, nothing } from "../types.js";

export const keyPackages: ContentHandler<"key-packages"> = {
  async direct({ ctx, batch, conversation, contact, body }) {
    // Checked now, so a bad one fails here rather than when someone wants to add them.
    for (const kp of body.keyPackages) {
      const member = await ctx.engine.inspectKeyPackage(unb64(kp)).catch(() => undefined);
      if (!member || b64(member.identityKey) !== contact.identityKey) {
        reject({ reason: "foreign_key_package", conversationId: conversation.id });
      }
      ctx.repo.putTheirKeyPackage(batch, await keyPackageId(ctx, unb64(kp)), {
        contactId: contact.id,
        keyPackage: kp,
        receivedAt: ctx.now(),
      });
    }
    return nothing();
  },
};
