/**
 * `read`, 1:1 and group: the sender has seen these messages (read receipts). Sent only where the
 * sender allows it for that conversation: on by default in 1:1 chats, off in groups.
 */
import { z } from "zod";
import { MAX_RECEIPT_IDS } from "./receipt.js";

export const ReadBody = z.object({
  type: z.literal("read"),
  ids: z.array(z.string().min(1).max(64)).min(1).max(MAX_RECEIPT_IDS),
});
export type ReadBody = z.infer<typeof ReadBody>;
