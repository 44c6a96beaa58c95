/** `key-packages`, 1:1 only: KeyPackages the peer may use to add us to groups (each is used once). */
import { z } from "zod";
import { B64 } from "./common.js";

export const KeyPackagesBody = z.object({
  type: z.literal("key-packages"),
  keyPackages: z
    .array(B64(16 * 1024))
    .min(1)
    .max(10),
});
export type KeyPackagesBody = z.infer<typeof KeyPackagesBody>;
