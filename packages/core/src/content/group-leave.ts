/** `group-leave`, group only: the sender leaves; an admin's client removes them from the group. */
import { z } from "zod";

export const GroupLeaveBody = z.object({ type: z.literal("group-leave") });
export type GroupLeaveBody = z.infer<typeof GroupLeaveBody>;
