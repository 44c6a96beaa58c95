/** `text`: a chat message, in a 1:1 conversation or a group. */
import { z } from "zod";

export const MAX_TEXT_LENGTH = 64 * 1024;

export const TextBody = z.object({ type: z.literal("text"), text: z.string().min(1).max(MAX_TEXT_LENGTH) });
export type TextBody = z.infer<typeof TextBody>;
