/**
 * Files that must not hurt, through a real relay process and real CLI profiles: a tampered blob
 * is refused, files that lie about their type are flagged, a photo's GPS location is removed, a
 * HEIC (whose metadata Parley cannot remove) is sent only with --keep-metadata, the relay's data
 * holds no name, type or plaintext, and a file over the relay's limit is refused before any upload.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type FileJson, type FilesWorld, filesWorld, jpegWithGps, MB } from "./files-helpers.js";
import { parley, parleyJson } from "./helpers.js";

let w: FilesWorld;
let alice: string;
let bob: string;

before(async () => {
  w = await filesWorld(["Alice", "Bob"]);
  alice = w.homes["Alice"]!;
  bob = w.homes["Bob"]!;
});
after(async () => {
  await w?.relay.stop();
});

test("a tampered blob is refused and nothing is saved", async () => {
  const path = w.randomFile("notes.txt", 300_000);
  const before = new Set(w.blobFiles());
  const sent = await parleyJson<{ file: FileJson }>(alice, "send-file", "Bob", path);
  const blob = w.blobFiles().find((f) => !before.has(f))!;
  const blobPath = join(w.relay.dataDir, "relay-blobs", blob);
  const bytes = readFileSync(blobPath);
  bytes[1000] = bytes[1000]! ^ 1;
  writeFileSync(blobPath, bytes);
  await parleyJson(bob, "sync");
  const out = join(w.work, "bob-notes.txt");
  const r = await parley(bob, "--json", "get-file", sent.file.id, out);
  assert.equal(r.code, 1);
  assert.equal(JSON.parse(r.stdout).code, "file_tampered");
  assert.equal(existsSync(out), false);
  assert.deepEqual(
    readdirSync(w.work).filter((f) => f.includes("parley-part")),
    [],
  );
});

/** A stored ZIP with one entry (enough for a real APK's first bytes). */
function zip(entry: string, content: Buffer): Buffer {
  const name = Buffer.from(entry);
  const header = Buffer.alloc(30);
  header.writeUInt32LE(0x04034b50, 0);
  header.writeUInt16LE(20, 4);
  header.writeUInt32LE(content.length, 18);
  header.writeUInt32LE(content.length, 22);
  header.writeUInt16LE(name.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt32LE(content.length, 20);
  central.writeUInt32LE(content.length, 24);
  central.writeUInt16LE(name.length, 28);
  const local = Buffer.concat([header, name, content]);
  const dir = Buffer.concat([central, name]);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(dir.length, 12);
  end.writeUInt32LE(local.length, 16);
  return Buffer.concat([local, dir, end]);
}

/** A 64-bit little-endian ELF header, then filler. */
function elf(): Buffer {
  const b = Buffer.alloc(4096);
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]).copy(b);
  b.writeUInt16LE(2, 16); // ET_EXEC
  b.writeUInt16LE(0x3e, 18); // x86-64
  b.writeUInt32LE(1, 20);
  return b;
}

test("a renamed APK and a renamed ELF are flagged, in the list and loudly before saving", async () => {
  const apk = join(w.work, "invoice.pdf");
  writeFileSync(apk, zip("AndroidManifest.xml", randomBytes(2000)));
  const prog = join(w.work, "holiday.jpg");
  writeFileSync(prog, elf());
  const sentApk = await parleyJson<{ file: FileJson }>(alice, "send-file", "Bob", apk);
  const sentElf = await parleyJson<{ file: FileJson }>(alice, "send-file", "Bob", prog);
  await parleyJson(bob, "sync");
  const list = await parleyJson<FileJson[]>(bob, "files", "Alice");
  const listed = list.find((f) => f.id === sentApk.file.id)!;
  assert.ok(listed.warnings.some((w) => w.code === "mismatch" && w.actual === "apk"));
  for (const [sent, actual, risk] of [
    [sentApk, "apk", "android-app"],
    [sentElf, "elf", "executable"],
  ] as const) {
    const out = join(w.work, `bob-${sent.file.name}`);
    const human = await parley(bob, "get-file", sent.file.id, out);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stderr, new RegExp(`WARNING: ${sent.file.name.replace(".", "\\.")} is really`));
    const json = await parleyJson<FileJson>(bob, "get-file", sent.file.id, `${out}.again`);
    assert.ok(
      json.warnings.some((w) => w.code === "mismatch" && w.actual === actual),
      JSON.stringify(json),
    );
    assert.ok(
      json.warnings.some((w) => w.code === "risky" && w.risk === risk),
      JSON.stringify(json),
    );
  }
  const human = await parley(bob, "files", "Alice");
  assert.match(human.stdout, /invoice\.pdf is really an Android app \(APK\)/);
  assert.match(human.stdout, /holiday\.jpg is really a Linux program \(ELF\)/);
});

test("a JPEG with GPS EXIF arrives without it, and the sender is told what was removed", async () => {
  const { bytes, withoutExif } = jpegWithGps();
  const path = join(w.work, "beach.jpg");
  writeFileSync(path, bytes);
  const sent = await parleyJson<{ file: FileJson }>(alice, "send-file", "Bob", path);
  assert.deepEqual(sent.file.removed.slice(0, 2), ["location", "camera"]);
  const human = await parley(alice, "send-file", "Bob", path);
  assert.match(human.stdout, /removed from the image before sending: location, camera model/);
  await parleyJson(bob, "sync");
  const out = join(w.work, "bob-beach.jpg");
  await parleyJson(bob, "get-file", sent.file.id, out);
  const got = readFileSync(out);
  assert.ok(got.equals(withoutExif), "the same picture, without the EXIF segment");
  assert.equal(got.includes(Buffer.from("GPS 48.8584N")), false);
  assert.equal(got.includes(Buffer.from("ACME")), false);
  // --keep-metadata sends it as it is.
  const kept = await parleyJson<{ file: FileJson }>(alice, "send-file", "Bob", path, "--keep-metadata");
  await parleyJson(bob, "sync");
  await parleyJson(bob, "get-file", kept.file.id, `${out}.kept`);
  assert.ok(readFileSync(`${out}.kept`).equals(bytes));
});

test("a HEIC photo, whose metadata Parley cannot remove, is sent only with --keep-metadata", async () => {
  // An ISO-BMFF file of brand heic (what an iPhone writes), as file-type detects it.
  const heic = Buffer.concat([
    Buffer.from([0, 0, 0, 0x18]),
    Buffer.from("ftypheic\0\0\0\0mif1heic", "latin1"),
    randomBytes(4000),
  ]);
  const path = join(w.work, "IMG_0001.HEIC");
  writeFileSync(path, heic);
  const blobs = w.blobFiles().length;
  const refused = await parley(alice, "--json", "send-file", "Bob", path);
  assert.equal(refused.code, 1);
  assert.equal(JSON.parse(refused.stdout).code, "metadata_not_removable");
  const words = await parley(alice, "send-file", "Bob", path);
  assert.match(words.stderr, /IMG_0001\.HEIC is a HEIC image: Parley cannot remove its metadata/);
  assert.match(words.stderr, /--keep-metadata/);
  assert.equal(w.blobFiles().length, blobs, "nothing was uploaded");
  const kept = await parleyJson<{ file: FileJson }>(alice, "send-file", "Bob", path, "--keep-metadata");
  assert.equal(kept.file.detected?.ext, "heic");
});

test("a file over the relay's limit is refused before any upload", async () => {
  const path = join(w.work, "too-big.iso");
  writeFileSync(path, "");
  truncateSync(path, 61 * MB);
  const before = w.blobFiles().length;
  const r = await parley(alice, "--json", "send-file", "Bob", path);
  assert.equal(r.code, 1);
  assert.equal(JSON.parse(r.stdout).code, "file_too_large");
  const human = await parley(alice, "send-file", "Bob", path);
  assert.match(human.stderr, /this relay takes files up to 62\.9 MB: nothing was uploaded/);
  assert.equal(w.blobFiles().length, before);
});

test("the relay's data holds no file name, no type and no plaintext", async () => {
  const marker = randomBytes(32);
  const path = join(w.work, "secret-plans.docx");
  writeFileSync(path, Buffer.concat(Array.from({ length: 200 }, () => marker)));
  await parleyJson(alice, "send-file", "Bob", path);
  const files = [
    ...readdirSync(w.relay.dataDir)
      .filter((f) => f.startsWith("relay.sqlite"))
      .map((f) => join(w.relay.dataDir, f)),
    ...w.blobFiles().map((f) => join(w.relay.dataDir, "relay-blobs", f)),
  ];
  for (const file of files) {
    const bytes = readFileSync(file);
    for (const needle of [
      "secret-plans",
      "invoice.pdf",
      "beach.jpg",
      "video.bin",
      "image/jpeg",
      "application/",
    ]) {
      assert.equal(bytes.includes(Buffer.from(needle)), false, `${needle} in ${file}`);
    }
    assert.equal(bytes.includes(marker), false, `plaintext in ${file}`);
  }
});
