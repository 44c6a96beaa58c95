/** `receipt`, 1:1 only: tells the peer its messages arrived (the "delivered" tick). */
import { z } from "zod";

export const MAX_RECEIPT_IDS = 256;

export const ReceiptBody = z.object({
  type: z.literal("receipt"),
  ids: z.array(z.string().max(64)).min(1).max(MAX_RECEIPT_IDS),
});
export type ReceiptBody = z.infer<typeof ReceiptBody>;
