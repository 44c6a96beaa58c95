/**
 * `group-link`, group only: an admin made (or, with `link: null`, revoked) the group's invite link.
 * Every admin's devices keep it and read its join queue (a broadcast queue), so any admin online
 * sees the requests and may answer them (client/group-links/, docs/03-content.md).
 */
import { z } from "zod";
import { B64, GroupQueue } from "./common.js";

export const SharedGroupLink = z.object({
  /** The join queue: requests arrive here, read by every admin device, never acknowledged. */
  queue: GroupQueue,
  /** Where the sealed link payload lies (claimed to revoke). */
  relay: z.string().url().max(2048),
  inviteId: z.string().length(22),
  /** The link's key: opens every join request. */
  key: B64(43),
  link: z.string().min(1).max(4096),
  expiresAt: z.number().int().nonnegative().optional(),
  approve: z.boolean(),
});
export type SharedGroupLink = z.infer<typeof SharedGroupLink>;

export const GroupLinkBody = z.object({ type: z.literal("group-link"), link: SharedGroupLink.nullable() });
export type GroupLinkBody = z.infer<typeof GroupLinkBody>;
