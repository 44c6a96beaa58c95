/** `intro`, 1:1 only: the first message of a new conversation: who I say I am and where to answer me. */
import { z } from "zod";
import { DisplayName, SendAddress } from "./common.js";

export const IntroBody = z.object({ type: z.literal("intro"), name: DisplayName, replyTo: SendAddress });
export type IntroBody = z.infer<typeof IntroBody>;
