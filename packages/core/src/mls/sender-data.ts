/**
 * Sender data of a PrivateMessage (RFC 9420 §6.3.2). The sender's leaf index travels encrypted under
 * a key derived from the epoch's sender_data_secret and a sample of the content ciphertext:
 *
 *     ciphertext_sample = ciphertext[0 .. KDF.Nh - 1]      (the whole ciphertext if shorter)
 *     sender_data_key   = ExpandWithLabel(sender_data_secret, "key",   ciphertext_sample, AEAD.Nk)
 *     sender_data_nonce = ExpandWithLabel(sender_data_secret, "nonce", ciphertext_sample, AEAD.Nn)
 *     aad               = SenderDataAAD { opaque group_id<V>; uint64 epoch; ContentType content_type; }
 *     SenderData        = { uint32 leaf_index; uint32 generation; opaque reuse_guard[4]; }
 *
 * ts-mls decrypts this internally but its processMessage does not say who sent an application
 * message, so the engine decrypts the sender data itself (read-only: nothing ratchets here).
 */
import type { MlsSuite } from "../crypto/mls-suite.js";
import { expandWithLabel } from "./labeled-crypto.js";
import { TlsReader, TlsWriter } from "./tls-codec.js";

export interface SenderData {
  leafIndex: number;
  generation: number;
  reuseGuard: Uint8Array; // 4 bytes
}

/** The PrivateMessage fields sender data depends on (a ts-mls `PrivateMessage` fits). */
export interface SenderDataSource {
  groupId: Uint8Array;
  epoch: bigint;
  contentType: number;
  encryptedSenderData: Uint8Array;
  ciphertext: Uint8Array;
}

export class SenderDataError extends Error {
  override name = "SenderDataError";
}

const SENDER_DATA_LENGTH = 12;

export function encodeSenderDataAad(groupId: Uint8Array, epoch: bigint, contentType: number): Uint8Array {
  return new TlsWriter().vector(groupId).u64(epoch).u8(contentType).finish();
}

export function encodeSenderData(data: SenderData): Uint8Array {
  if (data.reuseGuard.length !== 4) throw new SenderDataError("reuse_guard must be 4 bytes");
  return new TlsWriter().u32(data.leafIndex).u32(data.generation).raw(data.reuseGuard).finish();
}

/** Strict: exactly 12 bytes, nothing trailing. */
export function decodeSenderData(bytes: Uint8Array): SenderData {
  if (bytes.length !== SENDER_DATA_LENGTH) {
    throw new SenderDataError(`SenderData must be ${SENDER_DATA_LENGTH} bytes, got ${bytes.length}`);
  }
  const r = new TlsReader(bytes);
  const leafIndex = r.u32();
  const generation = r.u32();
  const reuseGuard = r.raw(4).slice();
  r.end();
  return { leafIndex, generation, reuseGuard };
}

/** The first KDF.Nh bytes of the content ciphertext. */
export function ciphertextSample(suite: MlsSuite, ciphertext: Uint8Array): Uint8Array {
  return ciphertext.subarray(0, Math.min(suite.kdf.size, ciphertext.length));
}

export async function senderDataKeyAndNonce(
  suite: MlsSuite,
  senderDataSecret: Uint8Array,
  ciphertext: Uint8Array,
): Promise<{ key: Uint8Array; nonce: Uint8Array }> {
  const sample = ciphertextSample(suite, ciphertext);
  const [key, nonce] = await Promise.all([
    expandWithLabel(suite.kdf, senderDataSecret, "key", sample, suite.hpke.keyLength),
    expandWithLabel(suite.kdf, senderDataSecret, "nonce", sample, suite.hpke.nonceLength),
  ]);
  return { key, nonce };
}

/** Decrypts and parses a PrivateMessage's sender data; throws SenderDataError if it does not open. */
export async function decryptSenderData(
  suite: MlsSuite,
  senderDataSecret: Uint8Array,
  message: SenderDataSource,
): Promise<SenderData> {
  const { key, nonce } = await senderDataKeyAndNonce(suite, senderDataSecret, message.ciphertext);
  const aad = encodeSenderDataAad(message.groupId, message.epoch, message.contentType);
  let plaintext: Uint8Array;
  try {
    plaintext = await suite.hpke.decryptAead(key, nonce, aad, message.encryptedSenderData);
  } catch {
    throw new SenderDataError("sender data does not decrypt (tampered, or not for this epoch)");
  } finally {
    key.fill(0);
  }
  return decodeSenderData(plaintext);
}

/** The inverse, for tests and for anyone building PrivateMessages by hand. */
export async function encryptSenderData(
  suite: MlsSuite,
  senderDataSecret: Uint8Array,
  message: Omit<SenderDataSource, "encryptedSenderData">,
  data: SenderData,
): Promise<Uint8Array> {
  const { key, nonce } = await senderDataKeyAndNonce(suite, senderDataSecret, message.ciphertext);
  const aad = encodeSenderDataAad(message.groupId, message.epoch, message.contentType);
  try {
    return await suite.hpke.encryptAead(key, nonce, aad, encodeSenderData(data));
  } finally {
    key.fill(0);
  }
}
