/**
 * Sending a file: its real type detected, image metadata stripped (unless kept), encrypted in
 * chunks with a fresh key, uploaded once to our relay as one blob whatever the number of
 * recipients, then announced by a `file` message in the conversation (content/file.ts).
 *
 * Resumable: the upload's state (blob id, write capability, key, the hash of what the relay has
 * so far) is kept in the profile under a hash of the conversation and the source's identity; the
 * same send again finds it, asks the relay how many bytes it holds, and goes on from there. The
 * file is encrypted again from its start (the same key and nonces give the same bytes) to rebuild
 * the ciphertext hash, and the hash of the part the relay holds must match the one recorded, else
 * the file changed meanwhile and the upload is refused (`file_changed`) rather than mixed.
 */

import { sha256 } from "@noble/hashes/sha2.js";
import { blobSize, FILE_CHUNK_BYTES, FILE_TAG_BYTES, padme } from "@parley/protocol";
import { type FileBody, MAX_CAPTION_LENGTH } from "../../content/file.js";
import { fromBase64Url, toBase64Url } from "../../encoding/base64url.js";
import { utf8 } from "../../encoding/bytes.js";
import { ParleyError } from "../../errors.js";
import {
  bytesSource,
  defaultHasher,
  encryptChunks,
  type FileSource,
  type HasherFactory,
} from "../../files/codec.js";
import { assessFile, DETECT_BYTES, detectType, type FileWarning } from "../../files/detect.js";
import { type AesGcm, FILE_KEY_BYTES, FILE_NONCE_PREFIX_BYTES, FileCipher } from "../../files/stream-aead.js";
import { MetadataError, type RemovedMetadata, stripMetadata } from "../../files/strip-metadata.js";
import { RelayError } from "../../relay-client/errors.js";
import type { FileRecord } from "../../store/records.js";
import { type ClientContext, randomId, requireProfile } from "../context.js";
import { requireWithinLength } from "../length.js";
import { findConversation, requireActive } from "../lookup.js";
import { sendBody } from "../outbox.js";
import type { MessageView } from "../views.js";

/** Ciphertext chunks per upload request: 8 × (256 KiB + 16 B), about 2 MiB. */
export const CHUNKS_PER_PUT = 8;
/** Images larger than this are not stripped (stripping reads them whole): refused unless kept. */
export const MAX_STRIP_BYTES = 64 * 1024 * 1024;
/** Image types whose metadata Parley cannot remove (ISO-BMFF item boxes): refused unless kept. */
const UNSTRIPPABLE_IMAGES = new Set(["heic", "heif", "avif"]);

export interface SendFileInput {
  source: FileSource;
  /** The file's name as recipients see it (a base name; made safe here). */
  name: string;
  /** The type the platform declares (a browser's File.type); optional. */
  mime?: string;
  caption?: string;
  /** Send images with their EXIF/XMP/IPTC metadata (location, camera…). */
  keepMetadata?: boolean;
  /** A small image for the message (the web app makes one); at most MAX_THUMBNAIL_BYTES. */
  thumbnail?: { mime: "image/jpeg" | "image/png" | "image/webp"; data: Uint8Array };
  /**
   * What identifies this source across attempts (a path with its size and modification time):
   * with it, an interrupted upload of the same source to the same conversation resumes.
   */
  sourceId?: string;
  onProgress?: (progress: { sent: number; total: number }) => void;
  /** Incremental SHA-256 (the platform's, when faster). */
  hasher?: HasherFactory;
  /** AES-256-GCM (the platform's, when faster than WebCrypto's). */
  aead?: AesGcm;
}

export interface SentFile {
  message: MessageView;
  /** Metadata removed from an image before it left. */
  removed: RemovedMetadata[];
  warnings: FileWarning[];
  /** The upload went on from an earlier, interrupted attempt (from this many bytes). */
  resumedFrom: number;
}

/** What the profile keeps of an upload in progress (`upload/<id>`). */
interface UploadState {
  v: 1;
  conversationId: string;
  contentId: string;
  relay: string;
  blobId: string;
  writeCap: string;
  deleteCap: string;
  blobSize: number;
  key: string;
  nonce: string;
  /** The ciphertext hash once the whole blob is up. */
  hash?: string;
  /** Bytes the relay confirmed last, and the SHA-256 state's digest over them (a fingerprint). */
  checkpoint?: { offset: number; prefix: string };
}

/** A file name recipients may see: base name, one line, no control/bidi characters, ≤ 255. */
export function safeFileName(name: string): string {
  const base = (name.split(/[\\/]/).pop() ?? "").normalize("NFC");
  const cleaned = base
    // Control, bidi, invisible formatting characters and separators: replaced, never kept.
    .replace(/[\p{Cc}\p{Cf}\u2028\u2029]/gu, "_")
    .trim()
    .replace(/^\.+/, "_");
  const name2 = cleaned.length > 0 ? cleaned : "file";
  return name2.length > 255 ? keepEnd(name2, 255) : name2;
}

/**
 * The end of `name` (where its extension is) in at most `max` UTF-16 code units, cut between whole
 * characters: by code points (a cut inside a surrogate pair leaves a lone half, which no receiver
 * accepts in a name), and without a combining mark orphaned at its start.
 */
function keepEnd(name: string, max: number): string {
  const points = Array.from(name);
  let length = name.length;
  let start = 0;
  while (length > max) length -= points[start++]!.length;
  return points
    .slice(start)
    .join("")
    .replace(/^\p{M}+/u, "");
}

export async function sendFile(
  ctx: ClientContext,
  nameOrId: string,
  input: SendFileInput,
): Promise<SentFile> {
  // Refused before any upload when the message could not be sent anyway.
  if (input.caption) requireWithinLength(input.caption, MAX_CAPTION_LENGTH);
  const conversation = await findConversation(ctx, nameOrId);
  if (conversation.kind === "group") requireActive(conversation);
  else if (!conversation.sendTo) {
    const contact = await ctx.repo.contact(conversation.contactId);
    throw new ParleyError("not_ready", { contact: contact?.name ?? "" });
  }
  const up = await uploadFile(ctx, conversation.id, input);
  const message = await sendBody(
    ctx,
    conversation.id,
    up.body,
    { text: input.caption ?? "", file: up.file },
    up.contentId,
  );
  await up.done();
  return { message, removed: up.removed, warnings: up.warnings, resumedFrom: up.resumedFrom };
}

/** A file uploaded and ready to be announced (`sendFile`, or a post's photo: posts/publish.ts). */
export interface UploadedFile {
  /** What the announcing message carries, and our own record of it (with the delete capability). */
  body: FileBody;
  file: FileRecord;
  contentId: string;
  removed: RemovedMetadata[];
  warnings: FileWarning[];
  resumedFrom: number;
  /** Forgets the upload's resumable state: call once the announcing message is stored. */
  done(): Promise<void>;
}

/**
 * Strips, encrypts and uploads a file for conversation `conversationId` (resuming an interrupted
 * upload of the same source there), without announcing it.
 */
export async function uploadFile(
  ctx: ClientContext,
  conversationId: string,
  input: SendFileInput,
): Promise<UploadedFile> {
  const profile = await requireProfile(ctx);
  const conversation = { id: conversationId };
  const name = safeFileName(input.name);
  let source = input.source;
  const head = await source.read(0, Math.min(source.size, DETECT_BYTES));
  const detected = await detectType(head);
  const { warnings } = assessFile(name, input.mime, detected);

  let removed: RemovedMetadata[] = [];
  const image = detected && ["jpg", "png", "webp"].includes(detected.ext);
  // Never sent with metadata the person was not told about: an image we cannot strip is refused
  // before any upload, unless they chose to keep its metadata.
  if (detected && !input.keepMetadata) {
    if (UNSTRIPPABLE_IMAGES.has(detected.ext))
      throw new ParleyError("metadata_not_removable", { name, reason: "format", type: detected.ext });
    if (image && source.size > MAX_STRIP_BYTES)
      throw new ParleyError("metadata_not_removable", { name, reason: "too_large", type: detected.ext });
  }
  if (image && !input.keepMetadata) {
    try {
      const stripped = stripMetadata(await source.read(0, source.size));
      if (stripped.removed.length > 0) {
        source = bytesSource(stripped.bytes);
        removed = stripped.removed;
      }
    } catch (e) {
      // A damaged image is refused rather than sent with its metadata.
      if (e instanceof MetadataError) throw new ParleyError("bad_file", { name, reason: e.message });
      throw e;
    }
  }

  const blobs = ctx.blobs(profile.relay);
  const limits = await blobs.limits();
  if (source.size > limits.maxFileBytes) {
    throw new ParleyError("file_too_large", { size: source.size, max: limits.maxFileBytes });
  }

  const uploadId = toBase64Url(
    sha256(utf8(`${conversation.id}|${input.sourceId ?? randomId(ctx)}|${input.keepMetadata === true}`)),
  ).slice(0, 22);
  let state = await ctx.repo.upload<UploadState>(uploadId);
  let resumedFrom = 0;
  let received = 0;
  if (state) {
    try {
      const status = await ctx.blobs(state.relay).status(state.blobId);
      received = status.received;
      resumedFrom = received;
    } catch (e) {
      // Expired or deleted meanwhile: start over with a fresh key (never the same nonces again).
      if (!(e instanceof RelayError && e.code === "unknown_blob")) throw e;
      await ctx.repo.commit(ctx.repo.deleteUpload(ctx.repo.batch(), uploadId));
      state = undefined;
    }
  }
  if (!state) {
    const size = blobSize(padme(source.size));
    const created = await blobs.create(size);
    state = {
      v: 1,
      conversationId: conversation.id,
      contentId: randomId(ctx),
      relay: blobs.baseUrl,
      blobId: created.blobId,
      writeCap: created.writeCap,
      deleteCap: created.deleteCap,
      blobSize: size,
      key: toBase64Url(ctx.crypto.randomBytes(FILE_KEY_BYTES)),
      nonce: toBase64Url(ctx.crypto.randomBytes(FILE_NONCE_PREFIX_BYTES)),
    };
    await ctx.repo.commit(ctx.repo.putUpload(ctx.repo.batch(), uploadId, state));
  }

  const hash = state.hash ?? (await upload(ctx, uploadId, state, source, received, input));
  const body: FileBody = {
    type: "file",
    blob: { relay: state.relay, blobId: state.blobId, size: state.blobSize },
    key: state.key,
    nonce: state.nonce,
    hash,
    size: source.size,
    name,
    ...(input.mime ? { mime: input.mime } : {}),
    ...(detected ? { detected } : {}),
    ...(input.caption ? { caption: input.caption } : {}),
    ...(input.thumbnail
      ? { thumbnail: { mime: input.thumbnail.mime, data: toBase64Url(input.thumbnail.data) } }
      : {}),
  };
  const { type: _type, ...attachment } = body;
  // The delete capability stays in our own record of the message, never in the message itself.
  const file: FileRecord = {
    ...attachment,
    checked: { detected, warnings },
    removed,
    deleteCap: state.deleteCap,
  };
  return {
    body,
    file,
    contentId: state.contentId,
    removed,
    warnings,
    resumedFrom,
    done: () => ctx.repo.commit(ctx.repo.deleteUpload(ctx.repo.batch(), uploadId)),
  };
}

/** Encrypts `source` and uploads what the relay lacks; returns the ciphertext's hash (base64url). */
async function upload(
  ctx: ClientContext,
  uploadId: string,
  state: UploadState,
  source: FileSource,
  received: number,
  input: SendFileInput,
): Promise<string> {
  const blobs = ctx.blobs(state.relay);
  const cipher = await FileCipher.open(fromBase64Url(state.key), fromBase64Url(state.nonce), input.aead);
  const hasher = (input.hasher ?? defaultHasher)();
  const padded = padme(source.size);
  const sealedChunk = FILE_CHUNK_BYTES + FILE_TAG_BYTES;
  let offset = 0; // ciphertext bytes produced so far
  let held = received; // bytes the relay holds
  // One buffer for every upload request, reused: memory stays flat whatever the file's size.
  const piece = new Uint8Array(CHUNKS_PER_PUT * sealedChunk);
  let pieceLength = 0;
  let pieceStart = -1;
  const checkpoint = state.checkpoint;
  const verify = () => {
    if (checkpoint && offset === checkpoint.offset) {
      if (toBase64Url(hasher.copy().digest()) !== checkpoint.prefix) {
        throw new ParleyError("file_changed", { name: input.name });
      }
    }
  };
  const flush = async () => {
    if (pieceLength === 0) return;
    const result = await blobs.put(state.blobId, state.writeCap, pieceStart, piece.subarray(0, pieceLength));
    pieceLength = 0;
    held = result.received;
    state.checkpoint = { offset: held, prefix: toBase64Url(hasher.copy().digest()) };
    await ctx.repo.commit(ctx.repo.putUpload(ctx.repo.batch(), uploadId, state));
    input.onProgress?.({ sent: held, total: state.blobSize });
    pieceStart = -1;
  };
  input.onProgress?.({ sent: held, total: state.blobSize });
  for await (const sealed of encryptChunks(source, cipher, padded)) {
    verify();
    const start = offset;
    hasher.update(sealed);
    offset += sealed.length;
    if (offset <= held) continue; // the relay has these bytes already
    const part = start < held ? sealed.subarray(held - start) : sealed;
    if (pieceStart < 0) pieceStart = Math.max(start, held);
    piece.set(part, pieceLength);
    pieceLength += part.length;
    if (pieceLength + sealedChunk > piece.length) await flush();
  }
  verify();
  await flush();
  if (held !== state.blobSize) throw new RelayError("bad_response", "the relay does not hold the whole file");
  state.hash = toBase64Url(hasher.digest());
  await ctx.repo.commit(ctx.repo.putUpload(ctx.repo.batch(), uploadId, state));
  return state.hash;
}
