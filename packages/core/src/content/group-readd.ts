/**
 * `group-readd`, 1:1 only: a member whose device can no longer follow a group (a dead epoch: the
 * commits it missed expired from the relay, or it could not process one; client/groups/dead-epoch.ts)
 * asks an admin it knows to re-add it, with a fresh KeyPackage of the group's cipher suite.
 */
import { z } from "zod";
import { B64 } from "./common.js";

export const GroupReaddBody = z.object({
  type: z.literal("group-readd"),
  /** The group's id (base64url): the admin's client finds the group by it. */
  groupId: B64(64),
  keyPackage: B64(16 * 1024),
  /** Why this device fell out of step (shown to no one: a diagnostic). */
  cause: z.enum(["messages_expired", "commit_unreadable"]),
});
export type GroupReaddBody = z.infer<typeof GroupReaddBody>;
