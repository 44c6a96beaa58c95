/**
 * `key-packages`, 1:1 only: KeyPackages the peer may use to add us to groups (each is used once),
 * and `lastResort`: at most one per cipher suite that it may use again and again once the others
 * are gone (RFC 9420 §16.8), replacing the last-resort one of that suite it had from us.
 */
import { z } from "zod";
import { B64 } from "./common.js";

export const KeyPackagesBody = z.object({
  type: z.literal("key-packages"),
  keyPackages: z
    .array(B64(16 * 1024))
    .min(1)
    .max(10),
  lastResort: z
    .array(B64(16 * 1024))
    .max(4)
    .optional(),
});
export type KeyPackagesBody = z.infer<typeof KeyPackagesBody>;
