/**
 * GroupContext, RFC 9420 §8.1 — the state every epoch secret, signature and path secret is bound to:
 *
 *     struct { ProtocolVersion version = mls10; CipherSuite cipher_suite; opaque group_id<V>; uint64 epoch;
 *              opaque tree_hash<V>; opaque confirmed_transcript_hash<V>; Extension extensions<V>; } GroupContext;
 */
import { type TlsReader, TlsWriter } from "../tls-codec.js";
import { readBytes } from "./codec.js";
import { fail } from "./errors.js";
import { type Extension, readExtensions, writeExtensions } from "./extensions.js";
import { MLS_10 } from "./suite.js";

export interface GroupContext {
  version: number;
  cipherSuite: number;
  groupId: Uint8Array;
  epoch: bigint;
  treeHash: Uint8Array;
  confirmedTranscriptHash: Uint8Array;
  extensions: Extension[];
}

export function writeGroupContext(w: TlsWriter, gc: GroupContext): void {
  w.u16(gc.version).u16(gc.cipherSuite).vector(gc.groupId).u64(gc.epoch);
  w.vector(gc.treeHash).vector(gc.confirmedTranscriptHash);
  writeExtensions(w, gc.extensions);
}

export function readGroupContext(r: TlsReader): GroupContext {
  const version = r.u16();
  if (version !== MLS_10) fail("unsupported", `protocol version ${version}`);
  return {
    version,
    cipherSuite: r.u16(),
    groupId: readBytes(r),
    epoch: r.u64(),
    treeHash: readBytes(r),
    confirmedTranscriptHash: readBytes(r),
    extensions: readExtensions(r),
  };
}

export function encodeGroupContext(gc: GroupContext): Uint8Array {
  const w = new TlsWriter();
  writeGroupContext(w, gc);
  return w.finish();
}
