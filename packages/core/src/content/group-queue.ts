/** `group-queue`, group only: the group moved to a new queue (after a removal, so the removed cannot read on). */
import { z } from "zod";
import { GroupQueue } from "./common.js";

export const GroupQueueBody = z.object({ type: z.literal("group-queue"), queue: GroupQueue });
export type GroupQueueBody = z.infer<typeof GroupQueueBody>;
