/**
 * Transcript hashes, RFC 9420 §8.2:
 *
 *     struct { WireFormat wire_format; FramedContent content; opaque signature<V>; } ConfirmedTranscriptHashInput;
 *     struct { MAC confirmation_tag; } InterimTranscriptHashInput;
 *     confirmed_transcript_hash_[n] = Hash(interim_transcript_hash_[n-1] || ConfirmedTranscriptHashInput_[n])
 *     interim_transcript_hash_[n]   = Hash(confirmed_transcript_hash_[n] || InterimTranscriptHashInput_[n])
 *     confirmation_tag = MAC(confirmation_key, confirmed_transcript_hash)
 *
 * For a new group, confirmed_transcript_hash_[0] is empty and interim_[0] follows from epoch 0's tag.
 */
import { concatBytes } from "../../encoding/bytes.js";
import { TlsWriter } from "../tls-codec.js";
import type { Suite } from "./suite.js";

export function confirmedTranscriptHash(
  suite: Suite,
  interimBefore: Uint8Array,
  confirmedInput: Uint8Array,
): Promise<Uint8Array> {
  return suite.hash.digest(concatBytes(interimBefore, confirmedInput));
}

export function interimTranscriptHash(
  suite: Suite,
  confirmed: Uint8Array,
  confirmationTag: Uint8Array,
): Promise<Uint8Array> {
  return suite.hash.digest(concatBytes(confirmed, new TlsWriter().vector(confirmationTag).finish()));
}

export const confirmationTag = (suite: Suite, confirmationKey: Uint8Array, confirmed: Uint8Array) =>
  suite.hash.mac(confirmationKey, confirmed);
