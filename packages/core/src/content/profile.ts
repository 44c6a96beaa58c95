/**
 * `profile`: how the sender wants to be called — in a group, by its members; in a 1:1 chat, by the
 * contact (unless they chose their own name for us). Sent when we join a group and when we change
 * our display name.
 */
import { z } from "zod";
import { DisplayName } from "./common.js";

export const ProfileBody = z.object({ type: z.literal("profile"), name: DisplayName });
export type ProfileBody = z.infer<typeof ProfileBody>;
