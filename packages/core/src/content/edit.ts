/** `edit`, 1:1 and group: the author replaces the text of one of their messages. */
import { z } from "zod";
import { textSchema } from "../messaging/text-length.js";
import { Mentions, MessageId } from "./message-ref.js";
import { MAX_TEXT_LENGTH } from "./text.js";

export const EditBody = z.object({
  type: z.literal("edit"),
  target: MessageId,
  text: textSchema(1, MAX_TEXT_LENGTH),
  mentions: Mentions.optional(),
});
export type EditBody = z.infer<typeof EditBody>;
