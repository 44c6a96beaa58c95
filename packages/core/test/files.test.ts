/**
 * Files below the client: padding sizes, the streaming AEAD (round trips at every boundary; every
 * reordering, truncation, extension and bit flip refused), type detection and warnings, and
 * metadata stripping of JPEG, PNG and WebP.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { crc32 } from "node:zlib";
import {
  assessFile,
  blobSize,
  blobSizeForFile,
  bytesSource,
  chunkCount,
  decryptBlob,
  detectType,
  encryptChunks,
  FILE_CHUNK_BYTES,
  FileCipher,
  FileCryptoError,
  isBlobSize,
  orientationTiff,
  paddedLengthOf,
  padme,
  safeFileName,
  stripMetadata,
} from "../src/index.js";

const random = (n: number) => {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(b.subarray(i, Math.min(n, i + 65536)));
  return b;
};

async function collect(gen: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const p of gen) parts.push(p.slice());
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

async function* pieces(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

const cipher = () => FileCipher.open(random(32), random(7));

describe("Padmé sizes", () => {
  it("pads by at most ~12 % and every padded size is a valid blob size", () => {
    for (const n of [0, 1, 2, 9, 100, 1000, 65_537, 1_000_000, 52_428_800, 104_857_600, 2 ** 33 + 7]) {
      const p = padme(n);
      assert.ok(p >= n && (n < 16 || p <= n * 1.13), `${n} → ${p}`);
      assert.equal(padme(p), p, "idempotent");
      if (p > 0) {
        assert.equal(paddedLengthOf(blobSize(p)), p);
        assert.ok(isBlobSize(blobSizeForFile(n)));
      }
    }
    assert.equal(isBlobSize(blobSizeForFile(1_000_000) + 1), false);
    assert.equal(isBlobSize(-1), false);
    assert.equal(isBlobSize(2 ** 60), false);
  });
});

describe("STREAM over AES-256-GCM", () => {
  it("round-trips files of every size around the chunk boundaries, whatever the pieces", async () => {
    for (const n of [
      0,
      1,
      FILE_CHUNK_BYTES - 1,
      FILE_CHUNK_BYTES,
      FILE_CHUNK_BYTES + 1,
      3 * FILE_CHUNK_BYTES + 5,
    ]) {
      const file = random(n);
      const c = await cipher();
      const padded = padme(n);
      const sealed = await collect(encryptChunks(bytesSource(file), c, padded));
      assert.equal(sealed.length, blobSize(padded));
      for (const piece of [1000, 65_536, sealed.length || 1]) {
        const plain = await collect(decryptBlob(pieces(sealed, piece), c, sealed.length, n));
        assert.deepEqual(plain, file);
      }
    }
  });

  it("refuses a flipped bit, reordered chunks, a truncated or extended blob, another key", async () => {
    const n = 3 * FILE_CHUNK_BYTES;
    const file = random(n);
    const c = await cipher();
    const sealed = await collect(encryptChunks(bytesSource(file), c, padme(n)));
    const size = sealed.length;
    const refuse = (bytes: Uint8Array, declared = size, key = c) =>
      assert.rejects(collect(decryptBlob(pieces(bytes, 70_000), key, declared, n)), FileCryptoError);
    const flipped = sealed.slice();
    flipped[FILE_CHUNK_BYTES + 40] = flipped[FILE_CHUNK_BYTES + 40]! ^ 1;
    await refuse(flipped);
    const chunk = FILE_CHUNK_BYTES + 16;
    const swapped = sealed.slice();
    swapped.set(sealed.subarray(chunk, 2 * chunk), 0);
    swapped.set(sealed.subarray(0, chunk), chunk);
    await refuse(swapped);
    await refuse(sealed.subarray(0, size - chunk));
    await refuse(sealed.subarray(0, 2 * chunk), size);
    const longer = new Uint8Array(size + 100);
    longer.set(sealed);
    await refuse(longer);
    await refuse(sealed, size, await cipher());
    // The last chunk's flag: a blob cut at a chunk boundary cannot pass as complete.
    assert.equal(chunkCount(padme(n)), Math.ceil(padme(n) / FILE_CHUNK_BYTES));
  });
});

/** A stored ZIP whose first entry is `name`. */
function zipWith(name: string): Uint8Array {
  const n = new TextEncoder().encode(name);
  const b = new Uint8Array(30 + n.length + 64);
  const v = new DataView(b.buffer);
  v.setUint32(0, 0x04034b50, true);
  v.setUint16(4, 20, true);
  v.setUint32(18, 64, true);
  v.setUint32(22, 64, true);
  v.setUint16(26, n.length, true);
  b.set(n, 30);
  return b;
}

describe("files that lie", () => {
  it("detects the real type and flags a renamed APK, ELF, EXE and an honest script", async () => {
    const apk = await detectType(zipWith("AndroidManifest.xml"));
    assert.equal(apk?.ext, "apk");
    const a = assessFile("invoice.pdf", "application/pdf", apk);
    assert.deepEqual(a.warnings[0], { code: "mismatch", claimed: "pdf", actual: "apk" });
    assert.ok(a.warnings.some((w) => w.code === "risky" && w.risk === "android-app"));

    const elfHead = new Uint8Array(64);
    elfHead.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
    elfHead[16] = 2;
    const elf = await detectType(elfHead);
    assert.equal(elf?.ext, "elf");
    assert.ok(
      assessFile("cat.jpg", undefined, elf).warnings.some((w) => w.code === "mismatch" && w.actual === "elf"),
    );

    const dex = await detectType(new TextEncoder().encode("dex\n035\0".padEnd(112, "\0")));
    assert.equal(dex?.ext, "dex");

    const script = assessFile("run-me.ps1", "text/plain", null);
    assert.deepEqual(script.warnings, [{ code: "risky", risk: "script", ext: "ps1" }]);
    const macro = assessFile("budget.xlsm", undefined, null);
    assert.deepEqual(macro.warnings, [{ code: "risky", risk: "macro-document", ext: "xlsm" }]);
    const lnk = assessFile("photo.jpg.lnk", undefined, null);
    assert.equal(lnk.warnings[0]?.code, "risky");
    // A ".pdf" whose content is no known type at all.
    assert.deepEqual(assessFile("bill.pdf", undefined, null).warnings, [
      { code: "mismatch", claimed: "pdf", actual: null },
    ]);
  });

  it("does not flag honest files", async () => {
    const pdf = await detectType(new TextEncoder().encode("%PDF-1.7\n%âãÏÓ\n1 0 obj\n"));
    assert.equal(pdf?.ext, "pdf");
    assert.deepEqual(assessFile("report.PDF", "application/pdf", pdf).warnings, []);
    assert.deepEqual(assessFile("notes.txt", "text/plain", null).warnings, []);
    assert.deepEqual(assessFile("photo.jpeg", "image/jpeg", { ext: "jpg", mime: "image/jpeg" }).warnings, []);
    assert.deepEqual(assessFile("data.bin", undefined, null).warnings, []);
  });

  it("makes names safe: base name, no control or bidi characters", () => {
    assert.equal(safeFileName("../../etc/passwd"), "passwd");
    assert.equal(safeFileName("C:\\Users\\x\\evil\u202Efdp.exe"), "evil_fdp.exe");
    assert.equal(safeFileName(".bashrc"), "_bashrc");
    assert.equal(safeFileName("a\nb.txt"), "a_b.txt");
    assert.equal(safeFileName(""), "file");
  });

  it("shortens a long name from its start, between whole characters, keeping the extension", () => {
    // 200 emoji (2 code units each) + ".png": cutting at a fixed code-unit index would leave half
    // a surrogate pair at the start, a name no receiver accepts.
    for (const head of ["😀", "e\u0301", "中"]) {
      const name = safeFileName(`${head.repeat(200)}.png`);
      assert.ok(name.length <= 255, `${name.length} code units`);
      assert.ok(name.endsWith(".png"));
      assert.doesNotMatch(
        name,
        /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/,
        "no lone surrogate",
      );
      assert.doesNotMatch(name, /^\p{M}/u, "no combining mark left at the start");
    }
  });
});

const enc = (s: string) => new TextEncoder().encode(s);
const cat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

/** A TIFF block with IFD0 tags `tags` (value 0). */
function tiff(tags: number[]): Uint8Array {
  const b = new Uint8Array(8 + 2 + tags.length * 12 + 4);
  const v = new DataView(b.buffer);
  b.set(enc("II*\0"));
  v.setUint32(4, 8, true);
  v.setUint16(8, tags.length, true);
  for (const [i, t] of tags.entries()) v.setUint16(10 + i * 12, t, true);
  return b;
}

const segment = (marker: number, payload: Uint8Array) =>
  cat(new Uint8Array([0xff, marker, (payload.length + 2) >> 8, (payload.length + 2) & 0xff]), payload);

describe("metadata stripping", () => {
  it("removes EXIF (with GPS), XMP, IPTC and comments from a JPEG and keeps the picture and ICC", () => {
    const app0 = segment(0xe0, enc("JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
    const icc = segment(0xe2, enc("ICC_PROFILE\0\x01\x01profile"));
    const scan = cat(
      new Uint8Array([0xff, 0xda, 0, 8, 1, 1, 0, 0, 0x3f, 0]),
      random(300).map((x) => x & 0x7f),
      new Uint8Array([0xff, 0xd9]),
    );
    const jpeg = cat(
      new Uint8Array([0xff, 0xd8]),
      app0,
      segment(0xe1, cat(enc("Exif\0\0"), tiff([0x010f, 0x0110, 0x0132, 0x8825]))),
      segment(0xe1, enc("http://ns.adobe.com/xap/1.0/\0<x:xmpmeta/>")),
      segment(0xed, enc("Photoshop 3.0\0")),
      segment(0xfe, enc("taken at home")),
      icc,
      scan,
    );
    const { bytes, removed } = stripMetadata(jpeg);
    assert.deepEqual(removed, ["location", "camera", "timestamps", "exif", "xmp", "iptc", "comment"]);
    assert.deepEqual(bytes, cat(new Uint8Array([0xff, 0xd8]), app0, icc, scan));
  });

  it("removes eXIf, text and time chunks from a PNG", () => {
    const chunk = (type: string, data: Uint8Array) => {
      const head = new Uint8Array(8);
      new DataView(head.buffer).setUint32(0, data.length);
      head.set(enc(type), 4);
      return cat(head, data, new Uint8Array(4));
    };
    const sig = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const ihdr = chunk("IHDR", new Uint8Array(13));
    const idat = chunk("IDAT", random(50));
    const iend = chunk("IEND", new Uint8Array(0));
    const png = cat(
      sig,
      ihdr,
      chunk("eXIf", tiff([0x8825])),
      chunk("tEXt", enc("Author\0me")),
      chunk("tIME", new Uint8Array(7)),
      idat,
      iend,
    );
    const { bytes, removed } = stripMetadata(png);
    assert.deepEqual(removed, ["location", "timestamps", "exif", "text"]);
    assert.deepEqual(bytes, cat(sig, ihdr, idat, iend));
  });

  it("removes EXIF and XMP chunks from a WebP and clears their flags", () => {
    const chunk = (type: string, data: Uint8Array) => {
      const head = new Uint8Array(8);
      head.set(enc(type));
      new DataView(head.buffer).setUint32(4, data.length, true);
      return cat(head, data, data.length % 2 ? new Uint8Array(1) : new Uint8Array(0));
    };
    const vp8x = chunk("VP8X", new Uint8Array([0x0c, 0, 0, 0, 1, 0, 0, 1, 0, 0]));
    const image = chunk("VP8 ", random(21));
    const body = cat(enc("WEBP"), vp8x, image, chunk("EXIF", tiff([0x8825])), chunk("XMP ", enc("<x/>")));
    const head = cat(enc("RIFF"), new Uint8Array(4));
    new DataView(head.buffer).setUint32(4, body.length, true);
    const { bytes, removed } = stripMetadata(cat(head, body));
    assert.deepEqual(removed, ["location", "exif", "xmp"]);
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    assert.equal(view.getUint32(4, true), bytes.length - 8);
    assert.equal(bytes[20]! & 0x0c, 0, "EXIF and XMP flags cleared");
    assert.equal(new TextDecoder().decode(bytes).includes("EXIF"), false);
  });

  it("keeps the orientation (only it) when EXIF goes, so a portrait photo stays upright", () => {
    // GPS, camera and Orientation = 6 (rotate 90° clockwise: a phone held upright), little-endian.
    const exif = tiff([0x010f, 0x0112, 0x8825]);
    const v = new DataView(exif.buffer);
    v.setUint16(10 + 12 + 2, 3, true); // Orientation is a SHORT
    v.setUint32(10 + 12 + 4, 1, true);
    v.setUint16(10 + 12 + 8, 6, true);
    const onlyOrientation = (value: number) => orientationTiff(value);
    assert.deepEqual(
      Array.from(onlyOrientation(6)),
      [0x4d, 0x4d, 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0],
    );

    const app0 = segment(0xe0, enc("JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
    const scan = cat(
      new Uint8Array([0xff, 0xda, 0, 8, 1, 1, 0, 0, 0x3f, 0]),
      random(100).map((x) => x & 0x7f),
    );
    const soi = new Uint8Array([0xff, 0xd8]);
    const jpeg = stripMetadata(
      cat(soi, app0, segment(0xe1, cat(enc("Exif\0\0"), exif)), scan, new Uint8Array([0xff, 0xd9])),
    );
    assert.deepEqual(jpeg.removed, ["location", "camera", "exif"]);
    assert.deepEqual(
      jpeg.bytes,
      cat(
        soi,
        app0,
        segment(0xe1, cat(enc("Exif\0\0"), onlyOrientation(6))),
        scan,
        new Uint8Array([0xff, 0xd9]),
      ),
    );

    // Upright (1) needs no EXIF at all.
    v.setUint16(10 + 12 + 8, 1, true);
    const upright = stripMetadata(
      cat(soi, segment(0xe1, cat(enc("Exif\0\0"), exif)), scan, new Uint8Array([0xff, 0xd9])),
    );
    assert.deepEqual(upright.bytes, cat(soi, scan, new Uint8Array([0xff, 0xd9])));
    v.setUint16(10 + 12 + 8, 8, true);

    // PNG: an eXIf chunk with only the orientation, its CRC right.
    const pngChunk = (type: string, data: Uint8Array) => {
      const head = new Uint8Array(8);
      new DataView(head.buffer).setUint32(0, data.length);
      head.set(enc(type), 4);
      const crc = new Uint8Array(4);
      new DataView(crc.buffer).setUint32(0, crc32(cat(enc(type), data)) >>> 0);
      return cat(head, data, crc);
    };
    const sig = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const ihdr = pngChunk("IHDR", new Uint8Array(13));
    const idat = pngChunk("IDAT", random(50));
    const iend = pngChunk("IEND", new Uint8Array(0));
    const png = stripMetadata(cat(sig, ihdr, pngChunk("eXIf", exif), idat, iend));
    assert.deepEqual(png.removed, ["location", "camera", "exif"]);
    assert.deepEqual(png.bytes, cat(sig, ihdr, pngChunk("eXIf", onlyOrientation(8)), idat, iend));

    // WebP: an EXIF chunk with only the orientation, and the VP8X EXIF flag set again.
    const riffChunk = (type: string, data: Uint8Array) => {
      const head = new Uint8Array(8);
      head.set(enc(type));
      new DataView(head.buffer).setUint32(4, data.length, true);
      return cat(head, data, data.length % 2 ? new Uint8Array(1) : new Uint8Array(0));
    };
    const vp8x = riffChunk("VP8X", new Uint8Array([0x0c, 0, 0, 0, 1, 0, 0, 1, 0, 0]));
    const image = riffChunk("VP8 ", random(21));
    const body = cat(enc("WEBP"), vp8x, image, riffChunk("EXIF", exif), riffChunk("XMP ", enc("<x/>")));
    const head = cat(enc("RIFF"), new Uint8Array(4));
    new DataView(head.buffer).setUint32(4, body.length, true);
    const webp = stripMetadata(cat(head, body));
    assert.deepEqual(webp.removed, ["location", "camera", "exif", "xmp"]);
    const out = webp.bytes;
    assert.equal(new DataView(out.buffer, out.byteOffset).getUint32(4, true), out.length - 8);
    assert.equal(out[20]! & 0x0c, 0x08, "the EXIF flag set again, XMP's cleared");
    assert.deepEqual(out.subarray(out.length - 34), riffChunk("EXIF", onlyOrientation(8)));
  });

  it("leaves other files alone and refuses a truncated image", () => {
    const text = enc("just text");
    assert.deepEqual(stripMetadata(text), { bytes: text, removed: [] });
    assert.throws(() => stripMetadata(new Uint8Array([0xff, 0xd8, 0xff, 0xe1, 0x40, 0x00, 1, 2])));
  });
});
