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

export class TlsWriter {
  private chunks: Uint8Array[] = [];
  private size = 0;

  private push(bytes: Uint8Array): this {
    this.chunks.push(bytes);
    this.size += bytes.length;
    return this;
  }

  u8(value: number): this {
    return this.push(Uint8Array.of(value & 0xff));
  }
  u16(value: number): this {
    return this.push(Uint8Array.of((value >>> 8) & 0xff, value & 0xff));
  }
  u32(value: number): this {
    const out = new Uint8Array(4);
    new DataView(out.buffer).setUint32(0, value >>> 0);
    return this.push(out);
  }
  u64(value: bigint): this {
    const out = new Uint8Array(8);
    new DataView(out.buffer).setBigUint64(0, BigInt.asUintN(64, value));
    return this.push(out);
  }
  varint(length: number): this {
    const n = varintSize(length);
    if (n === 1) return this.u8(length);
    if (n === 2) return this.u16(0x4000 | length);
    return this.u32((0x80000000 | length) >>> 0);
  }
  /** Raw bytes, no prefix (fixed-size fields). */
  raw(bytes: Uint8Array): this {
    return this.push(bytes);
  }
  /** `opaque x<V>`: varint length ‖ bytes. */
  vector(bytes: Uint8Array): this {
    return this.varint(bytes.length).push(bytes);
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let offset = 0;
    for (const c of this.chunks) {
      out.set(c, offset);
      offset += c.length;
    }
    return out;
  }
}

export class TlsReader {
  private offset = 0;
  constructor(private readonly bytes: Uint8Array) {}

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  private take(n: number): Uint8Array {
    if (n > this.remaining) throw new TlsDecodeError(`truncated: need ${n} bytes, have ${this.remaining}`);
    const out = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  u8(): number {
    return this.take(1)[0]!;
  }
  u16(): number {
    const b = this.take(2);
    return (b[0]! << 8) | b[1]!;
  }
  u32(): number {
    const b = this.take(4);
    return new DataView(b.buffer, b.byteOffset, 4).getUint32(0);
  }
  u64(): bigint {
    const b = this.take(8);
    return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0);
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
      const rest = this.take(3);
      const v = (first & 0x3f) * 0x1000000 + ((rest[0]! << 16) | (rest[1]! << 8) | rest[2]!);
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
