/** `profile`, group only: how a member wants to be called in this group. */
import { z } from "zod";
import { DisplayName } from "./common.js";

export const ProfileBody = z.object({ type: z.literal("profile"), name: DisplayName });
export type ProfileBody = z.infer<typeof ProfileBody>;
