/**
 * `key-packages`: kept to add the contact to groups; each must be the contact's own. A last-resort
 * one (RFC 9420 §16.8) replaces the one of its suite we had from them.
 */
import { keyPackageCipherSuiteId } from "../../../mls/engine.js";
import { b64, unb64 } from "../../../store/repository.js";
import { keyPackageId } from "../../mls-state.js";
import { reject } from "../rejection.js";
import { type ContentHandler, nothing } from "../types.js";

export const keyPackages: ContentHandler<"key-packages"> = {
  async direct({ ctx, batch, conversation, contact, body }) {
    const lastResort = new Set(body.lastResort ?? []);
    // Checked now, so a bad one fails here rather than when someone wants to add them.
    for (const kp of [...body.keyPackages, ...lastResort]) {
      const member = await ctx.engine.inspectKeyPackage(unb64(kp)).catch(() => undefined);
      if (!member || b64(member.identityKey) !== contact.identityKey) {
        reject({ reason: "foreign_key_package", conversationId: conversation.id });
      }
    }
    const suites = new Set([...lastResort].map((kp) => keyPackageCipherSuiteId(unb64(kp))));
    if (suites.size > 0) {
      for (const [ref, k] of await ctx.repo.theirKeyPackages(contact.id))
        if (k.lastResort && suites.has(keyPackageCipherSuiteId(unb64(k.keyPackage))))
          ctx.repo.deleteTheirKeyPackage(batch, contact.id, ref);
    }
    for (const kp of [...body.keyPackages, ...lastResort]) {
      ctx.repo.putTheirKeyPackage(batch, await keyPackageId(ctx, unb64(kp)), {
        contactId: contact.id,
        keyPackage: kp,
        receivedAt: ctx.now(),
        ...(lastResort.has(kp) ? { lastResort: true as const } : {}),
      });
    }
    return nothing();
  },
};
