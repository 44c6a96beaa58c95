/**
 * RFC 9420 §2.1 presentation-language helpers on top of Parley's TLS codec: vectors of structs
 * (`T items<V>`: the varint counts bytes, not items), `optional<T>` (a presence octet, §2.1.3), and
 * a strict whole-buffer decode. Decoders never return a partially read value: they throw, and
 * `decodeExact` turns every throw into MlsError("malformed").
 */
import { TlsReader, TlsWriter } from "../tls-codec.js";
import { decodeOrFail, fail } from "./errors.js";

export type Encoder<T> = (w: TlsWriter, value: T) => void;
export type Decoder<T> = (r: TlsReader) => T;

export function writeList<T>(w: TlsWriter, items: readonly T[], encode: Encoder<T>): void {
  w.vectorOf((inner) => {
    for (const item of items) encode(inner, item);
  });
}

export function readList<T>(r: TlsReader, decode: Decoder<T>): T[] {
  const inner = new TlsReader(r.vector(), r.owned);
  const out: T[] = [];
  while (inner.remaining > 0) out.push(decode(inner));
  return out;
}

export function writeOptional<T>(w: TlsWriter, value: T | undefined, encode: Encoder<T>): void {
  if (value === undefined) w.u8(0);
  else {
    w.u8(1);
    encode(w, value);
  }
}

export function readOptional<T>(r: TlsReader, decode: Decoder<T>): T | undefined {
  const present = r.u8();
  if (present === 0) return undefined;
  if (present !== 1) fail("malformed", `optional presence octet ${present}`);
  return decode(r);
}

/** Copies a vector out of the input, so decoded values never alias a caller's buffer (a view into
 * an owned input, which is no caller's: TlsReader). */
export const readBytes = (r: TlsReader): Uint8Array => (r.owned ? r.vector() : r.vector().slice());

export function encodeWith<T>(encode: Encoder<T>, value: T): Uint8Array {
  const w = new TlsWriter();
  encode(w, value);
  return w.finish();
}

/** Decodes exactly one T from all of `bytes`; anything else is MlsError("malformed"). */
export function decodeExact<T>(what: string, decode: Decoder<T>, bytes: Uint8Array): T {
  return decodeOrFail(what, () => {
    const r = new TlsReader(bytes);
    const value = decode(r);
    r.end();
    return value;
  });
}

export const writeU16List = (w: TlsWriter, xs: readonly number[]): void =>
  writeList(w, xs, (ww, x) => ww.u16(x));
export const readU16List = (r: TlsReader): number[] => readList(r, (rr) => rr.u16());
