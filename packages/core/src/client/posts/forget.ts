/** Forgetting a post on this device, and deleting our post's photos from the relay. */
import type { Batch } from "../../store/batch.js";
import type { ClientContext } from "../context.js";
import { deleteFile } from "../files/get-file.js";
import { deletePostRecord, type PostRecord } from "./store.js";

/** Drops a post and its photos' records from this device (in `batch`). */
export async function forgetPost(ctx: ClientContext, batch: Batch, post: PostRecord): Promise<void> {
  deletePostRecord(batch, post);
  for (const id of post.images) {
    const message = await ctx.repo.message(post.conversationId, id);
    if (message) ctx.repo.deleteMessage(batch, message);
  }
}

/** Deletes the blobs of our post's photos from the relay; one already gone is no error. */
export async function deleteImageBlobs(ctx: ClientContext, post: PostRecord): Promise<void> {
  for (const id of post.images) await deleteFile(ctx, id);
}
