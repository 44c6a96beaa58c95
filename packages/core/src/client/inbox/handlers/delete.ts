/** `delete`: the author deletes one of their messages for everyone; its text leaves this device's store. */
import { receiveChange } from "../changes.js";
import type { ContentHandler } from "../types.js";

export const deleteMessage: ContentHandler<"delete"> = {
  direct: ({ ctx, batch, conversation, contact, content, body }) =>
    receiveChange(ctx, batch, conversation, contact.identityKey, content, body.target, { kind: "delete" }),
  group: ({ ctx, batch, conversation, sender, content, body }) =>
    receiveChange(ctx, batch, conversation, sender, content, body.target, { kind: "delete" }),
};
