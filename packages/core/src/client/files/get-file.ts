/**
 * Fetching a file someone sent: its ciphertext downloaded (resuming with a range from what an
 * earlier attempt kept) and decrypted as it arrives into the target's hidden part, checked against
 * the SHA-256 its message carries, and only then typed from its content (compared with its name)
 * and saved. A mismatch of the hash, or any chunk that does not decrypt, is an error and nothing
 * is saved (`file_tampered`), never a half or altered file.
 */

import { chunkCount, FILE_CHUNK_BYTES, FILE_TAG_BYTES, paddedLengthOf } from "@parley/protocol";
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
 * Where a download goes, provided by the platform: the plaintext, written once as it is decrypted
 * into a hidden part that only `finish` moves into place. What a cut attempt wrote stays for the
 * next one, which resumes from its last whole chunk: the ciphertext of what is held is derived
 * again by encrypting it (each chunk's nonce is fixed by its index, so the bytes are the same) to
 * complete the hash, so nothing but the plaintext is ever written (a 200 MB download wrote 400).
 */
export interface DownloadTarget {
  /** Plaintext bytes an earlier attempt of this download kept (0 if none). */
  heldPlain(): Promise<number>;
  /** `length` bytes of what is held, from `offset` (within what is held). */
  readPlain(offset: number, length: number): Promise<Uint8Array>;
  /** Keeps only the first `length` bytes held; the next write goes after them. */
  keepPlain(length: number): Promise<void>;
  writePlain(bytes: Uint8Array): Promise<void>;
  /**
   * The plaintext is complete and checked: show or save it. Called with what this device found;
   * the platform warns before it saves.
   */
  finish(assessment: FileAssessment): Promise<void>;
  /** The download was cut: what is written is kept (and flushed) for a later attempt. */
  pause(): Promise<void>;
  /** What is held is dropped (altered, or the file is gone): never a half file. */
  discardPlain(): Promise<void>;
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

/** The relay no longer holds the blob (thrown inside the download, turned into a ParleyError). */
class FileGone extends Error {
  constructor(readonly code: "file_gone" | "file_deleted") {
    super(code);
  }
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
): Promise<FileView & { resumedFrom: number }> {
  await requireProfile(ctx);
  const { record } = await findFile(ctx, fileId);
  const f = record.file;
  if (f.deleted) throw new ParleyError("file_deleted", { id: fileId });
  const blobs = ctx.blobs(f.blob.relay);
  const total = f.blob.size;

  const padded = paddedLengthOf(total);
  if (padded === null || f.size > padded) throw new ParleyError("file_tampered", { id: fileId });
  const chunks = chunkCount(padded);
  // What an earlier attempt kept, as whole chunks (never the last: it is short and flagged).
  let heldPlain = await target.heldPlain();
  if (heldPlain > f.size) heldPlain = 0;
  const from = Math.min(Math.floor(heldPlain / FILE_CHUNK_BYTES), chunks - 1);
  await target.keepPlain(from * FILE_CHUNK_BYTES);
  let held = from * (FILE_CHUNK_BYTES + FILE_TAG_BYTES);

  const cipher = await FileCipher.open(fromBase64Url(f.key), fromBase64Url(f.nonce), options.aead);
  // One pass: the ciphertext is hashed and decrypted as it arrives, the plaintext going only to
  // the target's hidden part (never shown, saved or even typed), which `finish` moves into place
  // once the whole ciphertext matched the hash its (authenticated) message carries.
  const hasher = (options.hasher ?? defaultHasher)();
  let length = 0;
  async function* ciphertext(): AsyncGenerator<Uint8Array> {
    // The held chunks' ciphertext, derived again, for the hash.
    for (let i = 0; i < from; i++) {
      const sealed = await cipher.encrypt(
        i,
        false,
        await target.readPlain(i * FILE_CHUNK_BYTES, FILE_CHUNK_BYTES),
      );
      hasher.update(sealed);
      length += sealed.length;
      options.onProgress?.({ phase: "verify", received: length, total });
    }
    options.onProgress?.({ phase: "download", received: held, total });
    if (held >= total) return;
    try {
      for await (const piece of blobs.read(f.blob.blobId, held)) {
        const room = total - held;
        const part = piece.length > room ? piece.subarray(0, room) : piece;
        hasher.update(part);
        length += part.length;
        held += part.length;
        options.onProgress?.({ phase: "download", received: held, total });
        yield part;
        if (held >= total) break;
      }
    } catch (e) {
      if (e instanceof RelayError && e.code === "unknown_blob") throw new FileGone("file_gone");
      if (e instanceof RelayError && e.code === "blob_deleted") throw new FileGone("file_deleted");
      throw e;
    }
  }

  let head: Uint8Array[] = from > 0 ? [await target.readPlain(0, Math.min(DETECT_BYTES, f.size))] : [];
  let headBytes = head[0]?.length ?? 0;
  let written = from * FILE_CHUNK_BYTES;
  try {
    for await (const plain of decryptBlob(ciphertext(), cipher, total, f.size, from)) {
      if (headBytes < Math.min(DETECT_BYTES, f.size)) {
        head.push(plain);
        headBytes += plain.length;
      }
      await target.writePlain(plain);
      written += plain.length;
      options.onProgress?.({ phase: "decrypt", received: written, total: f.size });
    }
    // The whole ciphertext, checked against the hash its message carries, before anything is
    // typed, shown or saved.
    if (length !== total || toBase64Url(hasher.digest()) !== f.hash) throw new FileCryptoError("hash");
  } catch (e) {
    if (e instanceof FileCryptoError) {
      await target.discardPlain();
      throw new ParleyError("file_tampered", { id: fileId });
    }
    if (e instanceof FileGone) {
      // Nothing more will come: what an earlier attempt kept goes. Deleted by its sender: the
      // list shows it as deleted from now on.
      await target.discardPlain();
      if (e.code === "file_deleted") await markDeleted(ctx, fileId);
      throw new ParleyError(e.code, { id: fileId });
    }
    // Cut off (network, a full disk…): what is written stays for the next attempt.
    await target.pause().catch(() => {});
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
  return {
    ...fileView(fileId, { ...f, checked: { detected: assessment.detected, warnings: assessment.warnings } }),
    // The ciphertext bytes an earlier attempt had fetched, not fetched again.
    resumedFrom: from * (FILE_CHUNK_BYTES + FILE_TAG_BYTES),
  };
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
