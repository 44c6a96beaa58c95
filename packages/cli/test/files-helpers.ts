/** Shared by the files-*-e2e tests: a relay process, CLI profiles, random files, peak memory. */
import { createHash, randomBytes } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PEAK_RSS_HOOK, runCli, startRelayProcess } from "@parley/testkit";
import { parleyJson, type RelayProcess, tempDir } from "./helpers.js";

export const MB = 1024 * 1024;

export interface FileJson {
  id: string;
  name: string;
  size: number;
  detected: { ext: string } | null;
  warnings: { code: string; actual?: string | null; risk?: string }[];
  warningText: string[];
  removed: string[];
}

export interface FilesWorld {
  relay: RelayProcess;
  /** Profiles by name ("Alice", …), each the contact of Alice. */
  homes: Record<string, string>;
  work: string;
  blobFiles(): string[];
  randomFile(name: string, size: number): string;
  /** `parley --json …` with its peak RSS in bytes. */
  measured<T>(home: string, ...args: string[]): Promise<{ value: T; rss: number }>;
}

export const sha = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

/** A relay (`--max-file-mb 60`) and profiles for `names`; the first is everyone's contact. */
export async function filesWorld(names: string[]): Promise<FilesWorld> {
  const relay = await startRelayProcess({
    dataDir: join(tempDir("f-relay"), "data"),
    args: ["--max-file-mb", "60"],
  });
  const work = tempDir("f-work");
  const homes: Record<string, string> = {};
  try {
    for (const name of names) {
      homes[name] = tempDir(`f-${name.toLowerCase()}`);
      await parleyJson(homes[name]!, "init", "--name", name, "--server", relay.url);
    }
    const first = homes[names[0]!]!;
    for (const name of names.slice(1)) {
      const { link } = await parleyJson<{ link: string }>(first, "invite");
      await parleyJson(homes[name]!, "accept", link);
      await parleyJson(first, "sync");
      await parleyJson(homes[name]!, "sync");
    }
  } catch (e) {
    // The caller never gets the relay to stop: a failed setup must not leave it running (the
    // test file would then never exit, and sit until the runner's deadline).
    await relay.stop();
    throw e;
  }
  // Peak memory of a CLI process: a module loaded before the CLI writes it at exit (VmHWM: a
  // child's maxRSS would count what this test process held when it spawned it).
  const rssHook = join(work, "rss-hook.mjs");
  writeFileSync(rssHook, PEAK_RSS_HOOK);
  return {
    relay,
    homes,
    work,
    blobFiles: () => readdirSync(join(relay.dataDir, "relay-blobs")),
    randomFile(name, size) {
      const path = join(work, name);
      writeFileSync(path, "");
      for (let at = 0; at < size; at += MB)
        writeFileSync(path, randomBytes(Math.min(MB, size - at)), { flag: "a" });
      return path;
    },
    async measured<T>(home: string, ...args: string[]) {
      const rssFile = join(work, `rss-${randomBytes(4).toString("hex")}`);
      const r = await runCli(home, ["--json", ...args], {
        timeoutMs: 120_000,
        env: { ...process.env, NODE_OPTIONS: `--import ${rssHook}`, PARLEY_RSS_FILE: rssFile },
      });
      if (r.code !== 0) throw new Error(`parley ${args.join(" ")} failed: ${r.stdout} ${r.stderr}`);
      return { value: JSON.parse(r.stdout) as T, rss: Number(readFileSync(rssFile, "utf8")) };
    },
  };
}

/** A small JPEG whose EXIF holds a camera make and a GPS position. */
export function jpegWithGps(): { bytes: Buffer; withoutExif: Buffer } {
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
