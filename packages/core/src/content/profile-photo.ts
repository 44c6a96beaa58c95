/**
 * `profile-photo`, 1:1 only: the sender's profile photo, or `null` when they removed it. Small
 * enough to travel inside the message (no blob on the relay): the sender makes it small (the web app
 * scales it down, every client strips its metadata and refuses more than MAX_PROFILE_PHOTO_BYTES).
 */
import { z } from "zod";

export const MAX_PROFILE_PHOTO_BYTES = 48 * 1024;
export const PROFILE_PHOTO_TYPES = ["image/jpeg", "image/png", "image/webp"] as const;

export const ProfilePhoto = z.object({
  mime: z.enum(PROFILE_PHOTO_TYPES),
  data: z
    .string()
    .min(1)
    .max(Math.ceil((MAX_PROFILE_PHOTO_BYTES * 4) / 3))
    .regex(/^[A-Za-z0-9_-]*$/),
});
export type ProfilePhoto = z.infer<typeof ProfilePhoto>;

export const ProfilePhotoBody = z.object({
  type: z.literal("profile-photo"),
  photo: ProfilePhoto.nullable(),
});
export type ProfilePhotoBody = z.infer<typeof ProfilePhotoBody>;
