/**
 * Posting and deleting a post (docs/04-posts.md). A post is one MLS application message in the
 * audience's feed group: one copy on the relay whatever the number of friends. Its photos go through
 * the file pipeline first (EXIF stripped, encrypted, uploaded once each) and the post carries their
 * keys. Deleting a post tells every member's device to drop it, and deletes its photos' blobs.
 */
import { MAX_POST_IMAGES, MAX_POST_TEXT_LENGTH, type PostImage } from "../../content/index.js";
import { ParleyError } from "../../errors.js";
import { DETECT_BYTES, detectType } from "../../files/detect.js";
import { withinLength } from "../../messaging/text-length.js";
import type { Batch } from "../../store/batch.js";
import type { FileRecord, MessageRecord } from "../../store/records.js";
import { type ClientContext, orderKey, randomId, requireProfile } from "../context.js";
import { type SendFileInput, type UploadedFile, uploadFile } from "../files/send-file.js";
import { EVERYONE, findAudience, reconcileAudience } from "./audiences.js";
import { findPost, type PostView, postView } from "./feed.js";
import { deleteImageBlobs, forgetPost } from "./forget.js";
import { sendToFeed } from "./send.js";
import { type PostRecord, putPost } from "./store.js";

/** The longest a post may live before it vanishes: 30 days. */
export const MAX_POST_LIFETIME_MS = 30 * 24 * 60 * 60 * 1000;
/** Types a post's photo may be. */
const IMAGE_TYPES = new Set(["jpg", "png", "webp", "gif"]);

export interface PostInput {
  text: string;
  images?: SendFileInput[];
  /** An audience's name; default "all" (every contact). */
  audience?: string;
  /** The post vanishes from every device this long after it is sent. */
  expiresInMs?: number;
}

/** The id its photo number `n` has as a file message in the feed conversation (`parley get-file`). */
export const imageId = (postId: string, n: number) => `${postId}.${n}`;

export async function publishPost(ctx: ClientContext, input: PostInput): Promise<PostView> {
  const profile = await requireProfile(ctx);
  const images = input.images ?? [];
  checkPostInput(input.text, images.length, input.expiresInMs);
  for (const image of images) {
    const head = await image.source.read(0, Math.min(image.source.size, DETECT_BYTES));
    if (!IMAGE_TYPES.has((await detectType(head))?.ext ?? ""))
      throw new ParleyError("bad_post", { reason: "not_an_image" });
  }
  const audience = await findAudience(ctx, input.audience ?? EVERYONE);
  await reconcileAudience(ctx, audience);
  const uploads: UploadedFile[] = [];
  for (const image of images) uploads.push(await uploadFile(ctx, audience.conversationId, image));

  const id = randomId(ctx);
  const sentAt = ctx.sealingTime();
  const expiresAt = input.expiresInMs !== undefined ? sentAt + input.expiresInMs : undefined;
  const record: PostRecord = {
    v: 1,
    id,
    conversationId: audience.conversationId,
    author: profile.identityPublicKey,
    text: input.text,
    images: uploads.map((_, n) => imageId(id, n)),
    sentAt,
    receivedAt: sentAt,
    ...(expiresAt !== undefined ? { expiresAt } : {}),
    comments: [],
    likes: {},
  };
  const body = {
    type: "post" as const,
    text: input.text,
    images: uploads.map((u) => {
      const { type: _type, ...image } = u.body;
      return image satisfies PostImage;
    }),
    ...(expiresAt !== undefined ? { expiresAt } : {}),
  };
  await sendToFeed(ctx, audience.conversationId, body, id, id, (batch) => {
    putPost(batch, record);
    uploads.forEach((u, n) => {
      putImage(ctx, batch, record, n, null, u.file);
    });
  });
  for (const u of uploads) await u.done();
  return postView(ctx, record);
}

/** What every receiver would drop is refused before anything is uploaded or sealed. */
function checkPostInput(text: string, images: number, expiresInMs: number | undefined): void {
  if (text.length === 0 && images === 0) throw new ParleyError("bad_post", { reason: "empty" });
  if (!withinLength(text, MAX_POST_TEXT_LENGTH))
    throw new ParleyError("bad_post", { reason: "too_long", max: MAX_POST_TEXT_LENGTH });
  if (images > MAX_POST_IMAGES)
    throw new ParleyError("bad_post", { reason: "too_many_images", max: MAX_POST_IMAGES });
  if (expiresInMs !== undefined && !(expiresInMs >= 1000 && expiresInMs <= MAX_POST_LIFETIME_MS))
    throw new ParleyError("bad_post", { reason: "bad_expiry", max: MAX_POST_LIFETIME_MS });
}

/** A post's photo as a file message of the feed conversation: the file pipeline fetches it from there. */
export function putImage(
  ctx: ClientContext,
  batch: Batch,
  post: PostRecord,
  n: number,
  sender: string | null,
  file: FileRecord,
): void {
  const id = imageId(post.id, n);
  const message: MessageRecord = {
    id,
    conversationId: post.conversationId,
    fromMe: sender === null,
    senderIdentity: sender,
    text: "",
    file,
    sentAt: post.sentAt,
    receivedAt: sender === null ? null : post.receivedAt,
    status: sender === null ? "sent" : "received",
    key: orderKey(ctx, id, post.sentAt),
  };
  ctx.repo.putMessage(batch, message);
}

/** Deletes one of our posts from every device of its audience, and its photos from the relay. */
export async function deletePost(ctx: ClientContext, postId: string): Promise<{ id: string }> {
  const profile = await requireProfile(ctx);
  const post = await findPost(ctx, postId);
  if (post.author !== profile.identityPublicKey) throw new ParleyError("not_your_post", { id: post.id });
  await deleteImageBlobs(ctx, post);
  await sendToFeed(
    ctx,
    post.conversationId,
    { type: "post-delete", post: post.id },
    randomId(ctx),
    post.id,
    (b) => forgetPost(ctx, b, post),
  );
  return { id: post.id };
}
