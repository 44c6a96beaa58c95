/** `reply-to`, 1:1 only: the sender's receive queue was renewed (the old one vanished): answer here. */
import { z } from "zod";
import { SendAddress } from "./common.js";

export const ReplyToBody = z.object({ type: z.literal("reply-to"), replyTo: SendAddress });
export type ReplyToBody = z.infer<typeof ReplyToBody>;
