/**
 * `group-invite`, 1:1 only: "you were added to a group". The Welcome (ratchet tree inside its
 * encrypted GroupInfo), which of our KeyPackages it was made for, the group's queue, and where in
 * it our membership begins. A person with several devices is added with one KeyPackage of each, in
 * one commit and one Welcome: `keyPackageRefs` names the others' (each device of theirs reads the
 * one invite in the chat their devices share, and joins with whichever KeyPackage is its own).
 */
import { z } from "zod";
import { B64, GroupQueue } from "./common.js";

/** How many devices of one person a group add takes (one KeyPackage each). */
export const MAX_DEVICES = 16;

export const GroupInviteBody = z.object({
  type: z.literal("group-invite"),
  welcome: B64(12 * 1024 * 1024),
  keyPackageRef: B64(64),
  keyPackageRefs: z.array(B64(64)).max(MAX_DEVICES).optional(),
  queue: GroupQueue,
  cursor: z.string().length(22).optional(),
});
export type GroupInviteBody = z.infer<typeof GroupInviteBody>;
