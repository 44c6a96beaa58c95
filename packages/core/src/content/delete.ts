/** `delete`, 1:1 and group: the author deletes one of their messages for everyone. */
import { z } from "zod";
import { MessageId } from "./message-ref.js";

export const DeleteBody = z.object({ type: z.literal("delete"), target: MessageId });
export type DeleteBody = z.infer<typeof DeleteBody>;
