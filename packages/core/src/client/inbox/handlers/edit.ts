/** `edit`: the author's new text for one of their messages (only theirs: see messages/changes.ts). */
import { receiveChange } from "../changes.js";
import type { ContentHandler } from "../types.js";

export const edit: ContentHandler<"edit"> = {
  direct: ({ ctx, batch, conversation, contact, content, body }) =>
    receiveChange(ctx, batch, conversation, contact.identityKey, content, body.target, {
      kind: "edit",
      text: body.text,
    }),
  group: ({ ctx, batch, conversation, sender, content, body }) =>
    receiveChange(ctx, batch, conversation, sender, content, body.target, {
      kind: "edit",
      text: body.text,
      ...(body.mentions ? { mentions: body.mentions } : {}),
    }),
};
