/**
 * Parley's content protocol: what travels inside MLS application messages (docs/03-content.md).
 * One file per message kind holds its schema; this file lists them. A contact is not trusted to
 * send well-formed content, so every decrypted payload is parsed here before anything uses it.
 *
 * A new kind: a file beside these, one entry in `Body` below, a handler in client/inbox/handlers/
 * (the compiler asks for it), and a section in docs/03-content.md.
 */
import { z } from "zod";
import { fromUtf8, utf8 } from "../encoding/bytes.js";
import { DeleteBody } from "./delete.js";
import { DeviceStateBody } from "./device-state.js";
import { EditBody } from "./edit.js";
import { ExpireBody } from "./expire.js";
import { FileBody } from "./file.js";
import { GroupInviteBody } from "./group-invite.js";
import { GroupLeaveBody } from "./group-leave.js";
import { GroupLinkBody } from "./group-link.js";
import { GroupQueueBody } from "./group-queue.js";
import { GroupReaddBody } from "./group-readd.js";
import { IntroBody } from "./intro.js";
import { KeyPackagesBody } from "./key-packages.js";
import { PostBody } from "./post.js";
import { PostCommentBody } from "./post-comment.js";
import { PostDeleteBody } from "./post-delete.js";
import { PostLikeBody } from "./post-like.js";
import { ProfileBody } from "./profile.js";
import { ProfilePhotoBody } from "./profile-photo.js";
import { ReactionBody } from "./reaction.js";
import { ReadBody } from "./read.js";
import { ReceiptBody } from "./receipt.js";
import { ReplyToBody } from "./reply-to.js";
import { TextBody } from "./text.js";
import { TypingBody } from "./typing.js";

export const Body = z.discriminatedUnion("type", [
  TextBody,
  IntroBody,
  ReplyToBody,
  ReceiptBody,
  KeyPackagesBody,
  GroupInviteBody,
  ProfileBody,
  ProfilePhotoBody,
  GroupQueueBody,
  GroupLeaveBody,
  GroupLinkBody,
  GroupReaddBody,
  FileBody,
  ReactionBody,
  EditBody,
  DeleteBody,
  ExpireBody,
  ReadBody,
  TypingBody,
  PostBody,
  PostCommentBody,
  PostLikeBody,
  PostDeleteBody,
  DeviceStateBody,
]);
export type Body = z.infer<typeof Body>;
export type BodyType = Body["type"];
export type BodyOf<T extends BodyType> = Extract<Body, { type: T }>;

export const Content = z.object({
  v: z.literal(1),
  id: z.string().min(1).max(64),
  sentAt: z.number().int().nonnegative(),
  body: Body,
});
export type Content = z.infer<typeof Content>;

export class ContentError extends Error {
  override name = "ContentError";
}

export const encodeContent = (content: Content): Uint8Array => utf8(JSON.stringify(content));

export function decodeContent(bytes: Uint8Array): Content {
  let value: unknown;
  try {
    value = JSON.parse(fromUtf8(bytes));
  } catch {
    throw new ContentError("message content is not valid UTF-8 JSON");
  }
  const parsed = Content.safeParse(value);
  if (!parsed.success) throw new ContentError(`message content rejected: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

export {
  DisplayName,
  GroupQueue,
  MAX_NAME_LENGTH,
  SendAddress,
  SendAddress as SendAddressSchema,
} from "./common.js";
export { DeleteBody } from "./delete.js";
export { DeviceStateBody } from "./device-state.js";
export { EditBody } from "./edit.js";
export { EXPIRE_CHOICES, ExpireBody } from "./expire.js";
export { FileBody, FileName, MAX_CAPTION_LENGTH, MAX_FILE_NAME_LENGTH, MAX_THUMBNAIL_BYTES } from "./file.js";
export { GroupInviteBody } from "./group-invite.js";
export { GroupLeaveBody } from "./group-leave.js";
export { GroupLinkBody, SharedGroupLink } from "./group-link.js";
export { GroupQueueBody } from "./group-queue.js";
export { GroupReaddBody } from "./group-readd.js";
export { IntroBody } from "./intro.js";
export { KeyPackagesBody } from "./key-packages.js";
export { MAX_MENTIONS, type Mention, MessageId, Quote } from "./message-ref.js";
export { MAX_POST_IMAGES, MAX_POST_TEXT_LENGTH, PostBody, PostId, PostImage } from "./post.js";
export { MAX_COMMENT_LENGTH, PostCommentBody } from "./post-comment.js";
export { PostDeleteBody } from "./post-delete.js";
export { PostLikeBody } from "./post-like.js";
export { ProfileBody } from "./profile.js";
export {
  MAX_PROFILE_PHOTO_BYTES,
  PROFILE_PHOTO_TYPES,
  ProfilePhoto,
  ProfilePhotoBody,
} from "./profile-photo.js";
export { isReactionEmoji, MAX_REACTION_LENGTH, ReactionBody } from "./reaction.js";
export { ReadBody } from "./read.js";
export { MAX_RECEIPT_IDS, ReceiptBody } from "./receipt.js";
export { ReplyToBody } from "./reply-to.js";
export { MAX_TEXT_LENGTH, TextBody } from "./text.js";
export { TypingBody } from "./typing.js";
