/**
 * Files and photos through a real relay process and real CLI profiles: 50 MB round trips 1:1 and
 * in a group of three with each process's peak memory measured, transfers killed midway that
 * resume byte-identical, a tampered blob refused, files that lie about their type flagged, a
 * photo's GPS location removed, the relay's data checked for names, types and plaintext, and a
 * file over the relay's limit refused before any upload.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runCli, spawnCli, startRelayProcess as startRelayWith } from "@parley/testkit";
import { parley, parleyJson, type RelayProcess, tempDir } from "./helpers.js";

const MB = 1024 * 1024;
let relay: RelayProcess;
const alice = tempDir("f-alice");
const bob = tempDir("f-bob");
const carol = tempDir("f-carol");
const work = tempDir("f-work");

interface FileJson {
  id: string;
  name: string;
  size: number;
  detected: { ext: string } | null;
  warnings: { code: string; actual?: string | null; risk?: string }[];
  warningText: string[];
  removed: string[];
}

async function connect(a: string, b: string) {
  const { link } = await parleyJson<{ link: string }>(a, "invite");
  await parleyJson(b, "accept", link);
  await parleyJson(a, "sync");
  await parleyJson(b, "sync");
}

const sha = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");
const blobFiles = () => readdirSync(join(relay.dataDir, "relay-blobs"));

/** A file of `size` random bytes, made 1 MiB at a time. */
function randomFile(name: string, size: number): string {
  const path = join(work, name);
  writeFileSync(path, "");
  for (let at = 0; at < size; at += MB)
    writeFileSync(path, randomBytes(Math.min(MB, size - at)), { flag: "a" });
  return path;
}

// Peak memory of a CLI process: a module loaded before the CLI writes its maxRSS at exit.
const rssHook = join(work, "rss-hook.mjs");
writeFileSync(
  rssHook,
  `import { writeFileSync } from "node:fs";
process.on("exit", () => { if (process.env.PARLEY_RSS_FILE) writeFileSync(process.env.PARLEY_RSS_FILE, String(process.resourceUsage().maxRSS * 1024)); });
`,
);

/** Runs `parley --json …` and returns its output and its peak RSS in bytes. */
async function measured<T>(home: string, ...args: string[]): Promise<{ value: T; rss: number }> {
  const rssFile = join(work, `rss-${randomBytes(4).toString("hex")}`);
  const r = await runCli(home, ["--json", ...args], {
    timeoutMs: 120_000,
    env: { ...process.env, NODE_OPTIONS: `--import ${rssHook}`, PARLEY_RSS_FILE: rssFile },
  });
  if (r.code !== 0) throw new Error(`parley ${args.join(" ")} failed: ${r.stdout} ${r.stderr}`);
  return { value: JSON.parse(r.stdout) as T, rss: Number(readFileSync(rssFile, "utf8")) };
}

/** Peak RSS of send-file and get-file moving a 1 MB file: what the CLI needs whatever the size. */
const baseline = { send: 0, get: 0 };

before(async () => {
  relay = await startRelayWith({
    dataDir: join(tempDir("f-relay"), "data"),
    args: ["--max-file-mb", "60"],
  });
  for (const [home, name] of [
    [alice, "Alice"],
    [bob, "Bob"],
    [carol, "Carol"],
  ] as const) {
    await parleyJson(home, "init", "--name", name, "--server", relay.url);
  }
  await connect(alice, bob);
  await connect(alice, carol);
  const small = randomFile("small.bin", MB);
  const sent = await measured<{ file: FileJson }>(alice, "send-file", "Bob", small);
  await parleyJson(bob, "sync");
  baseline.send = sent.rss;
  baseline.get = (await measured(bob, "get-file", sent.value.file.id, join(work, "bob-small.bin"))).rss;
});
after(async () => {
  await relay?.stop();
});

test("a 50 MB file round-trips 1:1 with each process's memory well below the file's size", async () => {
  const path = randomFile("video.bin", 50 * MB);
  const sent = await measured<{ file: FileJson }>(
    alice,
    "send-file",
    "Bob",
    path,
    "--caption",
    "the whole thing",
  );
  assert.equal(sent.value.file.size, 50 * MB);
  await parleyJson(bob, "sync");
  const list = await parleyJson<FileJson[]>(bob, "files", "Alice");
  assert.deepEqual(
    list.map((f) => [f.name, f.size]),
    [
      ["small.bin", MB],
      ["video.bin", 50 * MB],
    ],
  );
  const out = join(work, "bob-video.bin");
  const got = await measured<{ path: string }>(bob, "get-file", sent.value.file.id, out);
  assert.equal(got.value.path, out);
  assert.equal(sha(out), sha(path));
  const growth = { send: sent.rss - baseline.send, get: got.rss - baseline.get };
  console.log(
    `peak RSS, 1 MB → 50 MB: send-file ${(baseline.send / MB).toFixed(0)} → ${(sent.rss / MB).toFixed(0)} MiB, get-file ${(baseline.get / MB).toFixed(0)} → ${(got.rss / MB).toFixed(0)} MiB`,
  );
  assert.ok(
    growth.send < 25 * MB,
    `send-file grew by ${(growth.send / MB).toFixed(1)} MiB for a 50 MiB file`,
  );
  assert.ok(growth.get < 25 * MB, `get-file grew by ${(growth.get / MB).toFixed(1)} MiB for a 50 MiB file`);
  // The downloaded ciphertext is not left behind in the profile.
  assert.deepEqual(readdirSync(join(bob, "downloads")), []);
});

test("a 50 MB file in a group of three is uploaded once and fetched by both others", async () => {
  await parleyJson(alice, "group", "create", "Trip");
  await parleyJson(alice, "group", "add", "Trip", "Bob", "Carol");
  await parleyJson(bob, "sync");
  await parleyJson(carol, "sync");
  const blobsBefore = blobFiles().length;
  const path = randomFile("photos.zip", 50 * MB);
  const sent = await measured<{ file: FileJson }>(alice, "send-file", "Trip", path);
  assert.equal(blobFiles().length, blobsBefore + 1, "one blob for the whole group");
  for (const home of [bob, carol]) {
    await parleyJson(home, "sync");
    const out = join(work, `${home.split("/").pop()}-photos.zip`);
    const got = await measured(home, "get-file", sent.value.file.id, out);
    assert.equal(sha(out), sha(path));
    const grew = got.rss - baseline.get;
    assert.ok(grew < 25 * MB, `get-file grew by ${(grew / MB).toFixed(1)} MiB`);
  }
  const grew = sent.rss - baseline.send;
  assert.ok(grew < 25 * MB, `send-file grew by ${(grew / MB).toFixed(1)} MiB`);
});

/** Waits until `check` holds, polling. */
async function until(check: () => boolean, ms: number, what: string) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const sizeOf = (path: string) => (existsSync(path) ? statSync(path).size : 0);

test("an upload and a download killed midway resume, and the result is byte-identical", async () => {
  const path = randomFile("backup.tar", 50 * MB);
  const before = new Set(blobFiles());
  // Kill the sender once the relay holds part of the blob.
  const sender = spawnCli(alice, ["--json", "send-file", "Bob", path], { deadlineMs: 120_000 });
  await until(
    () => blobFiles().some((f) => !before.has(f) && sizeOf(join(relay.dataDir, "relay-blobs", f)) >= 8 * MB),
    60_000,
    "part of the upload",
  );
  sender.kill();
  await sender.closed(10_000).catch(() => {});
  const resumed = await parleyJson<{ file: FileJson; resumedFrom: number }>(alice, "send-file", "Bob", path);
  assert.ok(resumed.resumedFrom > 0, "the second attempt went on from where the first stopped");
  assert.equal(blobFiles().length, before.size + 1, "the same blob, not a second one");

  await parleyJson(bob, "sync");
  const out = join(work, "bob-backup.tar");
  const partial = join(bob, "downloads", `${resumed.file.id}.blob`);
  const getter = spawnCli(bob, ["--json", "get-file", resumed.file.id, out], { deadlineMs: 120_000 });
  await until(() => sizeOf(partial) >= 8 * MB, 60_000, "part of the download");
  getter.kill();
  await getter.closed(10_000).catch(() => {});
  assert.equal(existsSync(out), false, "no half file where the file goes");
  const kept = sizeOf(partial);
  assert.ok(kept > 0 && kept < 51 * MB);
  await parleyJson(bob, "get-file", resumed.file.id, out);
  assert.equal(sha(out), sha(path));
});

test("a tampered blob is refused and nothing is saved", async () => {
  const path = randomFile("notes.txt", 300_000);
  const before = new Set(blobFiles());
  const sent = await parleyJson<{ file: FileJson }>(alice, "send-file", "Bob", path);
  const blob = blobFiles().find((f) => !before.has(f))!;
  const blobPath = join(relay.dataDir, "relay-blobs", blob);
  const bytes = readFileSync(blobPath);
  bytes[1000] = bytes[1000]! ^ 1;
  writeFileSync(blobPath, bytes);
  await parleyJson(bob, "sync");
  const out = join(work, "bob-notes.txt");
  const r = await parley(bob, "--json", "get-file", sent.file.id, out);
  assert.equal(r.code, 1);
  assert.equal(JSON.parse(r.stdout).code, "file_tampered");
  assert.equal(existsSync(out), false);
  assert.deepEqual(
    readdirSync(join(work)).filter((f) => f.includes("parley-part")),
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
  const apk = join(work, "invoice.pdf");
  writeFileSync(apk, zip("AndroidManifest.xml", randomBytes(2000)));
  const prog = join(work, "holiday.jpg");
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
    const out = join(work, `bob-${sent.file.name}`);
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

/** A small JPEG whose EXIF holds a camera make and a GPS position. */
function jpegWithGps(): { bytes: Buffer; withoutExif: Buffer } {
  const tiff = Buffer.alloc(64);
  tiff.write("II*\0", 0, "latin1");
  tiff.writeUInt32LE(8, 4);
  tiff.writeUInt16LE(2, 8); // two entries
  tiff.writeUInt16LE(0x010f, 10); // Make
  tiff.writeUInt16LE(2, 12);
  tiff.writeUInt32LE(4, 14);
  tiff.write("ACME", 18, "latin1");
  tiff.writeUInt16LE(0x8825, 22); // GPS IFD pointer
  tiff.writeUInt16LE(4, 24);
  tiff.writeUInt32LE(1, 26);
  tiff.writeUInt32LE(40, 30);
  tiff.write("GPS 48.8584N 2.2945E", 40, "latin1");
  const exif = Buffer.concat([Buffer.from("Exif\0\0", "latin1"), tiff]);
  const app1 = Buffer.concat([
    Buffer.from([0xff, 0xe1, (exif.length + 2) >> 8, (exif.length + 2) & 0xff]),
    exif,
  ]);
  const app0 = Buffer.from([0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]);
  const sos = Buffer.from([0xff, 0xda, 0, 8, 1, 1, 0, 0, 0x3f, 0]);
  const scan = randomBytes(5000).map((b) => (b === 0xff ? 0 : b));
  const eoi = Buffer.from([0xff, 0xd9]);
  const soi = Buffer.from([0xff, 0xd8]);
  return {
    bytes: Buffer.concat([soi, app0, app1, sos, scan, eoi]),
    withoutExif: Buffer.concat([soi, app0, sos, scan, eoi]),
  };
}

test("a JPEG with GPS EXIF arrives without it, and the sender is told what was removed", async () => {
  const { bytes, withoutExif } = jpegWithGps();
  const path = join(work, "beach.jpg");
  writeFileSync(path, bytes);
  const sent = await parleyJson<{ file: FileJson }>(alice, "send-file", "Bob", path);
  assert.deepEqual(sent.file.removed.slice(0, 2), ["location", "camera"]);
  const human = await parley(alice, "send-file", "Bob", path);
  assert.match(human.stdout, /removed from the image before sending: location, camera model/);
  await parleyJson(bob, "sync");
  const out = join(work, "bob-beach.jpg");
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

test("a file over the relay's limit is refused before any upload", async () => {
  const path = join(work, "too-big.iso");
  writeFileSync(path, "");
  truncateSync(path, 61 * MB);
  const before = blobFiles().length;
  const r = await parley(alice, "--json", "send-file", "Bob", path);
  assert.equal(r.code, 1);
  assert.equal(JSON.parse(r.stdout).code, "file_too_large");
  const human = await parley(alice, "send-file", "Bob", path);
  assert.match(human.stderr, /this relay takes files up to 62\.9 MB: nothing was uploaded/);
  assert.equal(blobFiles().length, before);
});

test("the relay's data holds no file name, no type and no plaintext", async () => {
  const marker = randomBytes(32);
  const path = join(work, "secret-plans.docx");
  writeFileSync(path, Buffer.concat(Array.from({ length: 200 }, () => marker)));
  await parleyJson(alice, "send-file", "Bob", path);
  const files = [
    ...readdirSync(relay.dataDir)
      .filter((f) => f.startsWith("relay.sqlite"))
      .map((f) => join(relay.dataDir, f)),
    ...blobFiles().map((f) => join(relay.dataDir, "relay-blobs", f)),
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
