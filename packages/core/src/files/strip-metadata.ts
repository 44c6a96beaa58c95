/**
 * Removes EXIF, XMP, IPTC and comment metadata from JPEG, PNG and WebP images before they leave
 * the sender's device: where a photo was taken, with what camera, when, by whom. This is container
 * parsing, not image decoding: JPEG segments, PNG chunks and WebP (RIFF) chunks that carry
 * metadata are dropped and everything else is copied byte for byte, so the picture is unchanged.
 *
 * Kept on purpose: colour profiles (ICC, needed to show colours right), the JPEG APP0/APP14
 * headers, and the EXIF orientation: a phone stores a portrait photo as landscape pixels plus an
 * Orientation tag, so without it the photo would show sideways. Where the EXIF said anything but
 * "upright" (1), a new EXIF block holding that one tag (two bytes that say how the camera was held,
 * nothing about where, when or which camera) takes the old block's place.
 * A file that does not parse is refused (`MetadataError`) rather than sent half-stripped.
 *
 * HEIC/HEIF/AVIF are not stripped here: their metadata are items of an ISO-BMFF box tree whose
 * offsets would all have to be rewritten. The sender refuses to send them unless the person keeps
 * the metadata knowingly (client/files/send-file.ts, `metadata_not_removable`).
 */
import { concatBytes } from "../encoding/bytes.js";

/** What was in the metadata removed, for the sender to see ("removed location, camera model"). */
export type RemovedMetadata =
  | "location"
  | "camera"
  | "timestamps"
  | "owner"
  | "exif"
  | "xmp"
  | "iptc"
  | "comment"
  | "text";

export interface StripResult {
  bytes: Uint8Array;
  /** Empty: there was nothing to remove (`bytes` is then the input). */
  removed: RemovedMetadata[];
}

export class MetadataError extends Error {
  override name = "MetadataError";
}

const ascii = (b: Uint8Array, start: number, length: number) =>
  String.fromCharCode(...b.subarray(start, Math.min(b.length, start + length)));

/** Strips `bytes` if it is a JPEG, PNG or WebP; any other content is returned as it is. */
export function stripMetadata(bytes: Uint8Array): StripResult {
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return stripJpeg(bytes);
  if (ascii(bytes, 0, 8) === "\x89PNG\r\n\x1a\n") return stripPng(bytes);
  if (ascii(bytes, 0, 4) === "RIFF" && ascii(bytes, 8, 4) === "WEBP") return stripWebp(bytes);
  return { bytes, removed: [] };
}

class Removed {
  readonly set = new Set<RemovedMetadata>();
  add(...kinds: RemovedMetadata[]) {
    for (const k of kinds) this.set.add(k);
  }
  /** What an EXIF (TIFF) block holds: GPS, camera make and model, times, owner. */
  exif(tiff: Uint8Array) {
    this.add("exif");
    for (const tag of tiffTags(tiff)) {
      if (tag === 0x8825) this.add("location");
      else if (tag === 0x010f || tag === 0x0110 || tag === 0xa434 || tag === 0xa433) this.add("camera");
      else if (tag === 0x0132 || tag === 0x9003 || tag === 0x9004) this.add("timestamps");
      else if (tag === 0x013b || tag === 0x8298 || tag === 0xa430) this.add("owner");
    }
  }
  list(): RemovedMetadata[] {
    const order: RemovedMetadata[] = [
      "location",
      "camera",
      "timestamps",
      "owner",
      "exif",
      "xmp",
      "iptc",
      "comment",
      "text",
    ];
    return order.filter((k) => this.set.has(k));
  }
}

/** The Orientation (tag 0x0112, 2…8) in IFD0 of a TIFF block; undefined if absent or 1 (upright). */
function orientationOf(t: Uint8Array): number | undefined {
  if (t.length < 8) return undefined;
  const le = t[0] === 0x49 && t[1] === 0x49;
  if (!le && !(t[0] === 0x4d && t[1] === 0x4d)) return undefined;
  const view = new DataView(t.buffer, t.byteOffset, t.byteLength);
  const at = view.getUint32(4, le);
  if (at + 2 > t.length) return undefined;
  const n = Math.min(view.getUint16(at, le), 512);
  for (let i = 0; i < n; i++) {
    const entry = at + 2 + i * 12;
    if (entry + 12 > t.length) return undefined;
    // SHORT (type 3), one value: in the first two bytes of the value field.
    if (view.getUint16(entry, le) === 0x0112 && view.getUint16(entry + 2, le) === 3) {
      const value = view.getUint16(entry + 8, le);
      return value >= 2 && value <= 8 ? value : undefined;
    }
  }
  return undefined;
}

/** A TIFF block with one tag in IFD0: Orientation = `value` (big-endian, 26 bytes). */
export function orientationTiff(value: number): Uint8Array {
  const t = new Uint8Array(26);
  const v = new DataView(t.buffer);
  t.set([0x4d, 0x4d, 0x00, 0x2a]); // "MM", 42
  v.setUint32(4, 8); // IFD0 at 8
  v.setUint16(8, 1); // one entry
  v.setUint16(10, 0x0112); // Orientation
  v.setUint16(12, 3); // SHORT
  v.setUint32(14, 1); // one value
  v.setUint16(18, value); // the value, left-justified in its 4 bytes
  v.setUint32(22, 0); // no next IFD
  return t;
}

const te = new TextEncoder();

/** CRC-32 (ISO 3309, as PNG uses it) of `bytes`. */
function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

/** The tags of IFD0 and of the Exif sub-IFD of a TIFF block (bounded, never throws). */
function tiffTags(t: Uint8Array): number[] {
  const tags: number[] = [];
  if (t.length < 8) return tags;
  const le = t[0] === 0x49 && t[1] === 0x49;
  if (!le && !(t[0] === 0x4d && t[1] === 0x4d)) return tags;
  const view = new DataView(t.buffer, t.byteOffset, t.byteLength);
  const u16 = (at: number) => view.getUint16(at, le);
  const u32 = (at: number) => view.getUint32(at, le);
  const ifd = (at: number, depth: number) => {
    if (at + 2 > t.length || depth > 2) return;
    const n = Math.min(u16(at), 512);
    for (let i = 0; i < n; i++) {
      const entry = at + 2 + i * 12;
      if (entry + 12 > t.length) return;
      const tag = u16(entry);
      tags.push(tag);
      if (tag === 0x8769) ifd(u32(entry + 8), depth + 1); // the Exif sub-IFD: times, owner
    }
  };
  ifd(u32(4), 0);
  return tags;
}

function stripJpeg(b: Uint8Array): StripResult {
  const removed = new Removed();
  const keep: Uint8Array[] = [b.subarray(0, 2)];
  let orientation: number | undefined;
  let at = 2;
  for (;;) {
    if (at + 4 > b.length || b[at] !== 0xff) throw new MetadataError("not a well-formed JPEG");
    let marker = b[at + 1]!;
    // Fill bytes (0xFF 0xFF …) before a marker.
    while (marker === 0xff && at + 2 < b.length) {
      at++;
      marker = b[at + 1]!;
    }
    if (marker === 0xd9) {
      keep.push(b.subarray(at, at + 2));
      at += 2;
      break;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      keep.push(b.subarray(at, at + 2));
      at += 2;
      continue;
    }
    const length = (b[at + 2]! << 8) | b[at + 3]!;
    if (length < 2 || at + 2 + length > b.length) throw new MetadataError("a JPEG segment runs past the end");
    const segment = b.subarray(at, at + 2 + length);
    const payload = b.subarray(at + 4, at + 2 + length);
    if (marker === 0xda) {
      // Start of scan: the compressed picture and everything after it, copied as is.
      keep.push(b.subarray(at));
      at = b.length;
      break;
    }
    let drop = false;
    if (marker === 0xe1) {
      drop = true;
      if (ascii(payload, 0, 6) === "Exif\0\0") {
        removed.exif(payload.subarray(6));
        const kept = orientation === undefined ? orientationOf(payload.subarray(6)) : undefined;
        if (kept !== undefined) {
          // In the old block's place: an EXIF block holding only the orientation.
          orientation = kept;
          const exif = concatBytes(te.encode("Exif\0\0"), orientationTiff(kept));
          keep.push(new Uint8Array([0xff, 0xe1, (exif.length + 2) >> 8, (exif.length + 2) & 0xff]), exif);
        }
      } else if (ascii(payload, 0, 29).startsWith("http://ns.adobe.com/")) removed.add("xmp");
      else removed.add("exif");
    } else if (marker === 0xed) {
      drop = true;
      removed.add("iptc");
    } else if (marker === 0xfe) {
      drop = true;
      removed.add("comment");
    } else if (marker === 0xe2) {
      // ICC profiles stay (colours); FlashPix and multi-picture (MPF: embedded previews) go.
      drop = ascii(payload, 0, 12) !== "ICC_PROFILE\0";
      if (drop) removed.add("exif");
    } else if (marker >= 0xe3 && marker <= 0xef && marker !== 0xee) {
      // APP3–APP13, APP15: vendor metadata (maker notes, previews); APP14 (Adobe colour) stays.
      drop = true;
      removed.add("exif");
    }
    if (!drop) keep.push(segment);
    at += 2 + length;
  }
  if (at < b.length) keep.push(b.subarray(at)); // bytes after EOI: not metadata we know; kept
  const list = removed.list();
  return { bytes: list.length === 0 ? b : concatBytes(...keep), removed: list };
}

function stripPng(b: Uint8Array): StripResult {
  const removed = new Removed();
  const keep: Uint8Array[] = [b.subarray(0, 8)];
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let at = 8;
  while (at < b.length) {
    if (at + 12 > b.length) throw new MetadataError("not a well-formed PNG");
    const length = view.getUint32(at);
    const type = ascii(b, at + 4, 4);
    const end = at + 12 + length;
    if (end > b.length) throw new MetadataError("a PNG chunk runs past the end");
    const data = b.subarray(at + 8, at + 8 + length);
    if (type === "eXIf") {
      removed.exif(data);
      const kept = orientationOf(data);
      if (kept !== undefined) keep.push(pngChunk("eXIf", orientationTiff(kept)));
    } else if (type === "iTXt" && ascii(data, 0, 17) === "XML:com.adobe.xmp") removed.add("xmp");
    else if (type === "tEXt" || type === "zTXt" || type === "iTXt") removed.add("text");
    else if (type === "tIME") removed.add("timestamps");
    else keep.push(b.subarray(at, end));
    at = end;
    if (type === "IEND") break;
  }
  const list = removed.list();
  return { bytes: list.length === 0 ? b : concatBytes(...keep), removed: list };
}

function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(te.encode(type), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

function stripWebp(b: Uint8Array): StripResult {
  const removed = new Removed();
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const riffEnd = Math.min(b.length, 8 + view.getUint32(4, true));
  const keep: Uint8Array[] = [];
  let vp8x: Uint8Array | undefined;
  let orientation: number | undefined;
  let at = 12;
  while (at + 8 <= riffEnd) {
    const type = ascii(b, at, 4);
    const size = view.getUint32(at + 4, true);
    const end = at + 8 + size + (size & 1);
    if (at + 8 + size > riffEnd) throw new MetadataError("a WebP chunk runs past the end");
    const chunk = b.subarray(at, Math.min(end, riffEnd));
    if (type === "EXIF") {
      const tiff = stripExifHeader(b.subarray(at + 8, at + 8 + size));
      removed.exif(tiff);
      orientation ??= orientationOf(tiff);
    } else if (type === "XMP ") removed.add("xmp");
    else {
      const copy = chunk.slice();
      if (type === "VP8X") vp8x = copy;
      keep.push(copy);
    }
    at = end;
  }
  const list = removed.list();
  if (list.length === 0) return { bytes: b, removed: list };
  // The VP8X header says which metadata chunks follow: clear the EXIF (0x08) and XMP (0x04) flags,
  // then set EXIF again when an orientation-only EXIF chunk goes at the end (where EXIF belongs).
  if (vp8x) vp8x[8] = vp8x[8]! & ~0x0c;
  if (vp8x && orientation !== undefined) {
    vp8x[8] = vp8x[8]! | 0x08;
    const tiff = orientationTiff(orientation);
    const head = new Uint8Array(8);
    head.set(te.encode("EXIF"));
    new DataView(head.buffer).setUint32(4, tiff.length, true);
    keep.push(head, tiff); // 26 bytes: even, no pad byte
  }
  const body = concatBytes(...keep);
  const out = new Uint8Array(12 + body.length);
  out.set(b.subarray(0, 12));
  new DataView(out.buffer).setUint32(4, 4 + body.length, true);
  out.set(body, 12);
  return { bytes: out, removed: list };
}

/** Some writers put "Exif\0\0" before the TIFF header in a WebP EXIF chunk. */
const stripExifHeader = (d: Uint8Array) => (ascii(d, 0, 6) === "Exif\0\0" ? d.subarray(6) : d);
