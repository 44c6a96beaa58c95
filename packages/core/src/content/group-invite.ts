/**
 * `group-invite`, 1:1 only: "you were added to a group". The Welcome (ratchet tree inside its
 * encrypted GroupInfo), which of our KeyPackages it was made for, the group's queue, and where in
 * it our membership begins.
 */
import { z } from "zod";
import { B64, GroupQueue } from "./common.js";

export const GroupInviteBody = z.object({
  type: z.literal("group-invite"),
  welcome: B64(12 * 1024 * 1024),
  keyPackageRef: B64(64),
  queue: GroupQueue,
  cursor: z.string().length(22).optional(),
});
export type GroupInviteBody = z.infer<typeof GroupInviteBody>;
