/**
 * `typing`, 1:1 and group: the sender is writing (`true`) or stopped (`false`). Never stored: a
 * receiver shows it for a few seconds. Sent only where the sender allows it for that conversation:
 * on by default in 1:1 chats, off in groups.
 */
import { z } from "zod";

export const TypingBody = z.object({ type: z.literal("typing"), typing: z.boolean() });
export type TypingBody = z.infer<typeof TypingBody>;
