/**
 * Fetching a file someone sent: its ciphertext downloaded (resuming with a range from what an
 * earlier attempt kept) and decrypted as it arrives into the target's hidden part, checked against
 * the SHA-256 its message carries, and only then typed from its content (compared with its name)
 * and saved. A mismatch of the hash, or any chunk that does not decrypt, is an error and nothing
 * is saved (`file_tampered`), never a half or altered file.
 */

import { fromBase64Url, toBase64Url } from "../../encoding/base64url.js";
import { concatBytes } from "../../encoding/bytes.js";
import { ParleyError } from "../../errors.js";
import { decryptBlob, defaultHasher, type HasherFactory } from "../../files/codec.js";
import { assessFile, DETECT_BYTES, detectType, type FileAssessment } from "../../files/detect.js";
import { type AesGcm, FileCipher, FileCryptoError } from "../../files/stream-aead.js";
import { RelayError } from "../../relay-client/errors.js";
import type { ConversationRecord, MessageRecord } from "../../store/records.js";
import { type ClientContext, requireProfile } from "../context.js";
import { fileView } from "../lookup.js";
import type { FileView } from "../views.js";

/**
 * Where a download goes, provided by the platform: the ciphertext kept as it arrives (so a later
 * attempt resumes), then the plaintext, moved into place only once complete.
 */
export interface DownloadTarget {
  /** Ciphertext bytes an earlier attempt kept (0 if none). */
  heldCipher(): Promise<number>;
  appendCipher(bytes: Uint8Array): Promise<void>;
  /** The whole ciphertext kept, from its start. */
  readCipher(): AsyncIterable<Uint8Array>;
  /** Forgets the ciphertext kept (it was altered or does not fit). */
  discardCipher(): Promise<void>;
  writePlain(bytes: Uint8Array): Promise<void>;
  /**
   * The plaintext is complete and checked: show or save it. Called with what this device found;
   * the platform warns before it saves.
   */
  finish(assessment: FileAssessment): Promise<void>;
  /** Something failed after plaintext was written: drop it (never a half file). */
  abortPlain(): Promise<void>;
}

export interface GetFileOptions {
  /**
   * Called as the download goes (`download`), then as the ciphertext is checked (`verify`) and
   * decrypted (`decrypt`): `received` counts the bytes of that phase done so far.
   */
  onProgress?: (progress: {
    phase: "download" | "verify" | "decrypt";
    received: number;
    total: number;
  }) => void;
  hasher?: HasherFactory;
  /** AES-256-GCM (the platform's, when faster than WebCrypto's). */
  aead?: AesGcm;
}

/** The message of a file by its id (the message's content id), in whatever conversation. */
export async function findFile(
  ctx: ClientContext,
  fileId: string,
): Promise<{
  record: MessageRecord & { file: NonNullable<MessageRecord["file"]> };
  conversation: ConversationRecord;
}> {
  for (const conversation of await ctx.repo.conversations()) {
    const record = await ctx.repo.message(conversation.id, fileId);
    if (record?.file)
      return { record: record as MessageRecord & { file: NonNullable<MessageRecord["file"]> }, conversation };
  }
  throw new ParleyError("unknown_file", { id: fileId });
}

export async function getFile(
  ctx: ClientContext,
  fileId: string,
  target: DownloadTarget,
  options: GetFileOptions = {},
): Promise<FileView> {
  await requireProfile(ctx);
  const { record } = await findFile(ctx, fileId);
  const f = record.file;
  if (f.deleted) throw new ParleyError("file_deleted", { id: fileId });
  const blobs = ctx.blobs(f.blob.relay);
  const total = f.blob.size;

  let held = await target.heldCipher();
  if (held > total) {
    await target.discardCipher();
    held = 0;
  }
  // One pass: the ciphertext is hashed, kept (for a later attempt to resume) and decrypted as it
  // arrives; what an earlier attempt kept goes first, from the copy on disk. The plaintext goes only
  // to the target's hidden part (never shown, saved or even typed), which `finish` moves into
  // place once the whole ciphertext matched the hash its (authenticated) message carries.
  // Decrypting as it arrives rather than after (a second pass over the whole file on disk) made
  // the CLI's download+decrypt about twice as fast (bench/src/files.ts).
  const hasher = (options.hasher ?? defaultHasher)();
  let length = 0;
  const heldAtStart = held;
  async function* ciphertext(): AsyncGenerator<Uint8Array> {
    if (heldAtStart > 0) {
      for await (const piece of target.readCipher()) {
        hasher.update(piece);
        length += piece.length;
        options.onProgress?.({ phase: "verify", received: length, total });
        yield piece;
      }
    }
    options.onProgress?.({ phase: "download", received: held, total });
    if (held >= total) return;
    try {
      for await (const piece of blobs.read(f.blob.blobId, held)) {
        const room = total - held;
        const part = piece.length > room ? piece.subarray(0, room) : piece;
        await target.appendCipher(part);
        hasher.update(part);
        length += part.length;
        held += part.length;
        options.onProgress?.({ phase: "download", received: held, total });
        yield part;
        if (held >= total) break;
      }
    } catch (e) {
      if (e instanceof RelayError && e.code === "unknown_blob")
        throw new ParleyError("file_gone", { id: fileId });
      if (e instanceof RelayError && e.code === "blob_deleted") {
        // Its sender deleted it: nothing more will come, so what an earlier attempt kept goes, and
        // the list shows it as deleted from now on.
        await target.discardCipher();
        await markDeleted(ctx, fileId);
        throw new ParleyError("file_deleted", { id: fileId });
      }
      throw e;
    }
  }

  const cipher = await FileCipher.open(fromBase64Url(f.key), fromBase64Url(f.nonce), options.aead);
  let head: Uint8Array[] = [];
  let headBytes = 0;
  let headDone = false;
  let written = 0;
  try {
    for await (const plain of decryptBlob(ciphertext(), cipher, total, f.size)) {
      if (!headDone) {
        head.push(plain);
        headBytes += plain.length;
        headDone = headBytes >= Math.min(DETECT_BYTES, f.size);
      }
      await target.writePlain(plain);
      written += plain.length;
      options.onProgress?.({ phase: "decrypt", received: written, total: f.size });
    }
    // The whole ciphertext, checked against the hash its message carries, before anything is
    // typed, shown or saved.
    if (length !== total || toBase64Url(hasher.digest()) !== f.hash) throw new FileCryptoError("hash");
  } catch (e) {
    await target.abortPlain();
    if (e instanceof FileCryptoError) {
      await target.discardCipher();
      throw new ParleyError("file_tampered", { id: fileId });
    }
    throw e;
  }
  const assessment: FileAssessment = assessFile(f.name, f.mime, await detectType(concatBytes(...head)));
  head = [];
  await target.finish(assessment);

  // What this device found is kept with the message: the list shows it from now on.
  await ctx.lock.run(async () => {
    const { record: current, conversation } = await findFile(ctx, fileId);
    current.file.checked = { detected: assessment.detected, warnings: assessment.warnings };
    await ctx.repo.commit(ctx.repo.putMessage(ctx.repo.batch(), current));
    void conversation;
  });
  return fileView(fileId, {
    ...f,
    checked: { detected: assessment.detected, warnings: assessment.warnings },
  });
}

/** Records that the relay no longer holds a file because its sender deleted it. */
export async function markDeleted(ctx: ClientContext, fileId: string): Promise<MessageRecord> {
  return ctx.lock.run(async () => {
    const { record } = await findFile(ctx, fileId);
    record.file.deleted = true;
    delete record.file.deleteCap;
    await ctx.repo.commit(ctx.repo.putMessage(ctx.repo.batch(), record));
    return record;
  });
}

/**
 * Deletes one of our files from the relay before it expires, with the delete capability its upload
 * returned (kept in our record of the message only). Recipients who try to fetch it afterwards are
 * told `file_deleted`. Deleting it again, or after it expired, changes nothing and is no error.
 */
export async function deleteFile(ctx: ClientContext, fileId: string): Promise<FileView> {
  await requireProfile(ctx);
  const { record } = await findFile(ctx, fileId);
  const f = record.file;
  if (!f.deleted) {
    if (!record.fromMe) throw new ParleyError("not_deletable", { id: fileId, reason: "not_mine" });
    if (!f.deleteCap) throw new ParleyError("not_deletable", { id: fileId, reason: "no_capability" });
    try {
      await ctx.blobs(f.blob.relay).delete(f.blob.blobId, f.deleteCap);
    } catch (e) {
      // Deleted already (by another attempt whose answer was lost), or expired: gone either way.
      if (!(e instanceof RelayError && (e.code === "blob_deleted" || e.code === "unknown_blob"))) throw e;
    }
  }
  const updated = f.deleted ? record : await markDeleted(ctx, fileId);
  return fileView(fileId, updated.file!);
}

/** Every file message of a conversation, oldest first. */
export async function files(
  ctx: ClientContext,
  conversationId: string,
  limit = 10_000,
): Promise<MessageRecord[]> {
  return (await ctx.repo.messages(conversationId, limit)).filter((m) => m.file !== undefined);
}
