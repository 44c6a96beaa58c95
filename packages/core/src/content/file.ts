/**
 * `file`: a file or photo, 1:1 and in groups. The bytes are on the relay as one encrypted blob
 * (files/), whatever the number of recipients; this message carries what it takes to fetch, check
 * and decrypt it: where it is, its key, the SHA-256 of its ciphertext, its size, its name, the type
 * the sender declared and detected, an optional caption and, for images, a small thumbnail.
 */
import { z } from "zod";
import { textSchema } from "../messaging/text-length.js";
import { nameSchema } from "../messaging/text-safety.js";

export const MAX_FILE_NAME_LENGTH = 255;
export const MAX_CAPTION_LENGTH = 4096;
/** A thumbnail travels inside the message: at most this many bytes (base64url is 4/3 of it). */
export const MAX_THUMBNAIL_BYTES = 48 * 1024;

const b64 = (length: number) =>
  z
    .string()
    .length(length)
    .regex(/^[A-Za-z0-9_-]*$/);

/** A file name is one line of safe text, like a display name (no control or bidi characters). */
export const FileName = nameSchema("file name", MAX_FILE_NAME_LENGTH);

const Mime = z
  .string()
  .max(255)
  .regex(/^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/i);

export const FileType = z.object({
  ext: z
    .string()
    .min(1)
    .max(16)
    .regex(/^[a-z0-9]+$/),
  mime: Mime,
});

export const FileBody = z.object({
  type: z.literal("file"),
  /** Where the ciphertext is: the uploader's relay and the blob's id. */
  blob: z.object({ relay: z.string().url().max(2048), blobId: b64(22), size: z.number().int().positive() }),
  /** AES-256 key (32 bytes) and STREAM nonce prefix (7 bytes), base64url: files/stream-aead.ts. */
  key: b64(43),
  nonce: b64(10),
  /** SHA-256 of the whole ciphertext, base64url: checked before anything is shown or saved. */
  hash: b64(43),
  /** The file's size in bytes (the blob holds it padded). */
  size: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  name: FileName,
  /** The type the sender's device declared (a browser's File.type), if any. */
  mime: Mime.optional(),
  /** The type the sender's device detected from the content. A receiver detects again itself. */
  detected: FileType.optional(),
  caption: textSchema(1, MAX_CAPTION_LENGTH).optional(),
  thumbnail: z
    .object({
      mime: z.enum(["image/jpeg", "image/png", "image/webp"]),
      data: z
        .string()
        .min(1)
        .max(Math.ceil((MAX_THUMBNAIL_BYTES * 4) / 3))
        .regex(/^[A-Za-z0-9_-]*$/),
    })
    .optional(),
});
export type FileBody = z.infer<typeof FileBody>;
