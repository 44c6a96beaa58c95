/**
 * `device-state`, only in our devices' own group (client/devices/self-group.ts), only from our own
 * identity: what this device has read (per conversation, the newest message read: its content id,
 * and its place in the history as this device keeps it, for a device that does not have it), sealed
 * at a time that says when the device was last active.
 */
import { z } from "zod";

export const MAX_READ_MARKS = 100;

export const DeviceStateBody = z.object({
  type: z.literal("device-state"),
  read: z
    .array(
      z.object({
        conversationId: z.string().min(1).max(64),
        messageId: z.string().min(1).max(64),
        upTo: z.string().min(1).max(128),
      }),
    )
    .max(MAX_READ_MARKS),
});
export type DeviceStateBody = z.infer<typeof DeviceStateBody>;
