/** `reaction`: the sender's one emoji on a message (replacing their earlier one), or none any more. */
import { receiveChange } from "../changes.js";
import type { ContentHandler } from "../types.js";

export const reaction: ContentHandler<"reaction"> = {
  direct: ({ ctx, batch, conversation, contact, content, body }) =>
    receiveChange(ctx, batch, conversation, contact.identityKey, content, body.target, {
      kind: "reaction",
      emoji: body.emoji,
    }),
  group: ({ ctx, batch, conversation, sender, content, body }) =>
    receiveChange(ctx, batch, conversation, sender, content, body.target, {
      kind: "reaction",
      emoji: body.emoji,
    }),
};
