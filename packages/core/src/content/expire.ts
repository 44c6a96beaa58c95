/**
 * `expire`, 1:1 and group: the conversation's disappearing-messages timer, in seconds (one of
 * EXPIRE_CHOICES), or null for off. In a group only an admin may set it.
 */
import { z } from "zod";

/** 30 s, 1 h, 1 d, 7 d: the timers offered (anything else is refused as malformed). */
export const EXPIRE_CHOICES = [30, 3600, 86_400, 604_800] as const;

export const ExpireBody = z.object({
  type: z.literal("expire"),
  seconds: z.union([z.literal(30), z.literal(3600), z.literal(86_400), z.literal(604_800), z.null()]),
});
export type ExpireBody = z.infer<typeof ExpireBody>;
