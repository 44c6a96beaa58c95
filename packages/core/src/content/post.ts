/**
 * `post`, in a feed group only (docs/04-posts.md): a post its author shares with one audience —
 * text, up to MAX_POST_IMAGES photos (each an encrypted blob uploaded once, described as a `file`
 * body is, without its `type`), and optionally the time (the author's clock) it vanishes from
 * every device. Only the feed group's owner (its one admin) may post in it.
 */
import { z } from "zod";
import { textSchema } from "../messaging/text-length.js";
import { FileBody } from "./file.js";

export const MAX_POST_TEXT_LENGTH = 10_000;
export const MAX_POST_IMAGES = 9;

/** A photo of a post: what it takes to fetch, check and decrypt it (content/file.ts). */
export const PostImage = FileBody.omit({ type: true });
export type PostImage = z.infer<typeof PostImage>;

/** Post, comment and like ids: base64url, as Parley clients make them (they become local keys). */
export const PostId = z
  .string()
  .min(8)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/);

/** A post without text and without photos is malformed: its handler drops it. */
export const PostBody = z.object({
  type: z.literal("post"),
  text: textSchema(0, MAX_POST_TEXT_LENGTH),
  images: z.array(PostImage).max(MAX_POST_IMAGES),
  expiresAt: z.number().int().positive().optional(),
});
export type PostBody = z.infer<typeof PostBody>;
