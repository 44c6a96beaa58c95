/**
 * Extensions, RFC 9420 §13.4: `struct { ExtensionType extension_type; opaque extension_data<V>; }`,
 * carried in LeafNodes, KeyPackages, GroupContexts and GroupInfos. The types defined by the RFC
 * (§17.3) are "default" and need not be listed in capabilities (§7.2); GREASE values (§13.5) are
 * 0x0A0A, 0x1A1A, … 0xEAEA and must be ignored on receipt.
 */
import type { TlsReader, TlsWriter } from "../tls-codec.js";
import { readBytes, readList, writeList } from "./codec.js";

export interface Extension {
  type: number;
  data: Uint8Array;
}

export const ExtensionType = {
  applicationId: 1,
  ratchetTree: 2,
  requiredCapabilities: 3,
  externalPub: 4,
  externalSenders: 5,
} as const;

export const isDefaultExtension = (type: number): boolean => type >= 1 && type <= 5;

/** §13.5: the GREASE values are 0x0A0A + n * 0x1010 for n = 0..14. */
export const isGrease = (value: number): boolean =>
  (value & 0x0f0f) === 0x0a0a && value >> 12 === ((value >> 4) & 0xf);

export const GREASE_VALUES: readonly number[] = Array.from({ length: 15 }, (_, n) => 0x0a0a + n * 0x1010);

export function writeExtension(w: TlsWriter, e: Extension): void {
  w.u16(e.type).vector(e.data);
}

export function readExtension(r: TlsReader): Extension {
  return { type: r.u16(), data: readBytes(r) };
}

export const writeExtensions = (w: TlsWriter, es: readonly Extension[]): void =>
  writeList(w, es, writeExtension);

/** §13.4: an extension type MUST NOT appear twice in one list. */
export function readExtensions(r: TlsReader): Extension[] {
  const list = readList(r, readExtension);
  const seen = new Set<number>();
  for (const e of list) {
    if (seen.has(e.type)) throw new Error(`extension ${e.type} appears twice`);
    seen.add(e.type);
  }
  return list;
}

export const findExtension = (es: readonly Extension[], type: number): Extension | undefined =>
  es.find((e) => e.type === type);
