/**
 * The MLS presentation language (RFC 9420 §2.1), only as much of it as Parley's own MLS helpers need:
 * big-endian integers and `opaque x<V>` vectors with the QUIC-style variable-length size prefix
 * (§2.1.2). ts-mls has its own codec but exports only a few whole-message encoders, so the pieces we
 * build by hand (sender data AAD, labelled KDF inputs, our state format) use this.
 */

export class TlsDecodeError extends Error {
  override name = "TlsDecodeError";
}

/** Bytes a variable-length size prefix takes for `length` (1, 2 or 4). */
export function varintSize(length: number): number {
  if (!Number.isInteger(length) || length < 0 || length > 0x3fffffff) {
    throw new RangeError(`length ${length} not encodable as an MLS varint`);
  }
  return length < 0x40 ? 1 : length < 0x4000 ? 2 : 4;
}

/**
 * Writes into one growing buffer (doubling), not a list of small chunks: a ratchet tree of 10,000
 * leaves is ~100,000 fields, and a chunk per field made encoding mostly allocation and GC.
 * Bytes are copied in when written, so later changes to an argument do not reach the output.
 */
export class TlsWriter {
  private buf: Uint8Array;
  private size = 0;

  constructor(capacity = 256) {
    this.buf = new Uint8Array(capacity);
  }

  private room(n: number): number {
    const at = this.size;
    if (at + n > this.buf.length) {
      let cap = this.buf.length * 2;
      while (cap < at + n) cap *= 2;
      const next = new Uint8Array(cap);
      next.set(this.buf.subarray(0, at));
      this.buf = next;
    }
    this.size = at + n;
    return at;
  }

  u8(value: number): this {
    const at = this.room(1);
    this.buf[at] = value & 0xff;
    return this;
  }
  u16(value: number): this {
    const at = this.room(2);
    this.buf[at] = (value >>> 8) & 0xff;
    this.buf[at + 1] = value & 0xff;
    return this;
  }
  u32(value: number): this {
    const at = this.room(4);
    const v = value >>> 0;
    this.buf[at] = v >>> 24;
    this.buf[at + 1] = (v >>> 16) & 0xff;
    this.buf[at + 2] = (v >>> 8) & 0xff;
    this.buf[at + 3] = v & 0xff;
    return this;
  }
  u64(value: bigint): this {
    const v = BigInt.asUintN(64, value);
    this.u32(Number(v >> 32n));
    return this.u32(Number(v & 0xffffffffn));
  }
  varint(length: number): this {
    const n = varintSize(length);
    if (n === 1) return this.u8(length);
    if (n === 2) return this.u16(0x4000 | length);
    return this.u32((0x80000000 | length) >>> 0);
  }
  /** Raw bytes, no prefix (fixed-size fields). */
  raw(bytes: Uint8Array): this {
    const at = this.room(bytes.length);
    this.buf.set(bytes, at);
    return this;
  }
  /** `opaque x<V>`: varint length ‖ bytes. */
  vector(bytes: Uint8Array): this {
    return this.varint(bytes.length).raw(bytes);
  }

  /**
   * `opaque x<V>` whose content `write` produces in place: the content is written first, then moved
   * up by the size of its length prefix — no intermediate buffer per vector.
   */
  vectorOf(write: (w: this) => void): this {
    const at = this.size;
    write(this);
    const len = this.size - at;
    const n = varintSize(len);
    this.room(n);
    this.buf.copyWithin(at + n, at, at + len);
    const end = this.size;
    this.size = at;
    this.varint(len);
    this.size = end;
    return this;
  }

  /** Bytes written so far. */
  get length(): number {
    return this.size;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.size);
  }

  /** The bytes written so far without a copy, for immediate use only (e.g. hashing): later writes may change them. */
  view(): Uint8Array {
    return this.buf.subarray(0, this.size);
  }
}

export class TlsReader {
  private offset = 0;
  /**
   * `owned`: the input is a private copy nothing else holds or writes (a decoder made it), so values
   * read from it may be views into it rather than copies — decoding a tree of 10,000 leaves is then
   * not ~100,000 small allocations. Readers of a vector inside it are owned too (codec.ts readList).
   */
  constructor(
    private readonly bytes: Uint8Array,
    readonly owned = false,
  ) {}

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  /** Bytes consumed so far. */
  get position(): number {
    return this.offset;
  }

  /** A copy of input bytes [from, to) — e.g. the exact encoding of a structure just read. */
  copy(from: number, to: number): Uint8Array {
    return this.owned ? this.bytes.subarray(from, to) : this.bytes.slice(from, to);
  }

  private take(n: number): Uint8Array {
    const at = this.advance(n);
    return this.bytes.subarray(at, at + n);
  }

  /**
   * Moves past `n` bytes, returning where they start. Integers are read straight from the input: a
   * view (or DataView) per integer made decoding a tree of 2,000 leaves ~100,000 short-lived objects,
   * most of its time and a good part of a join's garbage collection.
   */
  private advance(n: number): number {
    const at = this.offset;
    if (n > this.bytes.length - at)
      throw new TlsDecodeError(`truncated: need ${n} bytes, have ${this.remaining}`);
    this.offset = at + n;
    return at;
  }

  u8(): number {
    return this.bytes[this.advance(1)]!;
  }
  u16(): number {
    const at = this.advance(2);
    const b = this.bytes;
    return (b[at]! << 8) | b[at + 1]!;
  }
  u32(): number {
    const at = this.advance(4);
    const b = this.bytes;
    return b[at]! * 0x1000000 + ((b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!);
  }
  u64(): bigint {
    const hi = this.u32();
    return (BigInt(hi) << 32n) | BigInt(this.u32());
  }
  /** A variable-length size prefix; rejects the invalid 0b11 prefix and non-minimal encodings. */
  varint(): number {
    const first = this.u8();
    const prefix = first >> 6;
    if (prefix === 0) return first;
    if (prefix === 1) {
      const v = ((first & 0x3f) << 8) | this.u8();
      if (v < 0x40) throw new TlsDecodeError("non-minimal varint");
      return v;
    }
    if (prefix === 2) {
      const at = this.advance(3);
      const b = this.bytes;
      const v = (first & 0x3f) * 0x1000000 + ((b[at]! << 16) | (b[at + 1]! << 8) | b[at + 2]!);
      if (v < 0x4000) throw new TlsDecodeError("non-minimal varint");
      return v;
    }
    throw new TlsDecodeError("invalid varint prefix 0b11");
  }
  raw(n: number): Uint8Array {
    return this.take(n);
  }
  /** `opaque x<V>`; the returned view aliases the input. */
  vector(): Uint8Array {
    return this.take(this.varint());
  }
  /** Throws unless every byte was consumed: trailing garbage is an error, never ignored. */
  end(): void {
    if (this.remaining !== 0) throw new TlsDecodeError(`${this.remaining} trailing bytes`);
  }
}
