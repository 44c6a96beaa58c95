/**
 * Files: a 200 MB file sent and fetched through a real relay process on loopback, by two real
 * profiles (made with the CLI), each side in a process of its own so its peak memory is its own:
 * - encrypt + upload: `sendFile` (type detection, STREAM AES-256-GCM, SHA-256, 2 MiB PUTs);
 * - download + decrypt: `getFile` (hash and decrypt as it arrives, write the plaintext once, verify
 *   SHA-256, rename into place);
 * - the baseline, same relay process, same run: plain HTTP upload (PUTs of the same bytes, read from
 *   the same file, 4 MiB each) and download (one GET) of a blob of the same size, no crypto.
 * Peak RSS of the sender and the receiver processes (target ≤ 100 MB each), MB/s (target ≥ 50 %
 * of the plain rates). Then the same file through the real CLI (`parley send-file`, `get-file`, as
 * many times as rounds), for its peak RSS as people run it and its wall-clock rate, start-up
 * included. The bench's children run this file bundled into one, as the CLI is. `BENCH_FILE_MB`
 * changes the size. The children run with the CLI's Node flags and environment (@parley/testkit
 * cliNodeFlags, cliNodeEnv).
 * `BENCH_NODE_ARGS` adds flags to the children (profiling), `BENCH_VERBOSE` prints what they say,
 * `BENCH_TRACE` their memory every 4 MB moved.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { BLOB_CAP_HEADER, blobSizeForFile, type CreateBlobResponse } from "@parley/core";
import {
  FileDownloadTarget,
  fileSource,
  keepMemoryFlat,
  nodeAesGcm,
  nodeSha256,
  openProfile,
} from "@parley/node";
import {
  cliJson,
  cliNodeEnv,
  cliNodeFlags,
  PEAK_RSS_HOOK,
  peakRss,
  runCli,
  spawnChild,
  startRelayProcess,
} from "@parley/testkit";
import { round, writeResults } from "./report.js";

const MB = 1024 * 1024;
const FILE_MB = Number(process.env.BENCH_FILE_MB ?? 200);
const ROUNDS = Number(process.env.BENCH_FILES_ROUNDS ?? 3);
const temp = (name: string) => mkdtempSync(join(tmpdir(), `parley-bench-${name}-`));
/** Runs as a child: `--send HOME TARGET PATH` or `--get HOME FILE_ID OUT`; prints {seconds, rss}. */
async function child(args: string[]): Promise<void> {
  const [role, home, a, b] = args;
  const profile = openProfile(home!);
  // As the CLI does (file-commands.ts): cheap collections keep memory flat.
  const collect =
    process.env.BENCH_GC === "off"
      ? () => {}
      : keepMemoryFlat({
          minorEvery: Number(process.env.BENCH_GC_MINOR_MB ?? 2) * MB,
          fullAbove: Number(process.env.BENCH_GC_FULL_MB ?? 12) * MB,
        });
  try {
    await profile.client.profile(); // migrations, before the clock starts
    // What the process holds before the transfer (engine, SQLite, fetch loaded): the rest is the file's.
    const rssBefore = process.memoryUsage().rss;
    // What the memory is, sampled every 20 ms: V8's heap, memory outside it (Buffers, ArrayBuffers).
    const peak = { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      for (const k of Object.keys(peak) as (keyof typeof peak)[]) peak[k] = Math.max(peak[k], m[k]);
    }, 20);
    const t0 = performance.now();
    if (role === "--send") {
      const file = await fileSource(b!);
      await profile.client.sendFile(a!, {
        source: file.source,
        name: b!,
        hasher: nodeSha256,
        aead: nodeAesGcm,
        onProgress: ({ sent }) => {
          if (process.env.BENCH_TRACE) {
            const m = process.memoryUsage();
            process.stderr.write(
              `${sent >> 20} ab=${m.arrayBuffers >> 20} heap=${m.heapTotal >> 20} rss=${m.rss >> 20}\n`,
            );
          }
          collect(sent);
        },
      });
      await file.close();
    } else {
      const target = new FileDownloadTarget(b!);
      await profile.client.getFile(a!, target, {
        hasher: nodeSha256,
        aead: nodeAesGcm,
        onProgress: ({ phase, received }) => {
          if (process.env.BENCH_TRACE && received % (4 * MB) < 70000) {
            const m = process.memoryUsage();
            process.stderr.write(
              `${phase} ${received >> 20} ab=${m.arrayBuffers >> 20} heap=${m.heapTotal >> 20} rss=${m.rss >> 20}\n`,
            );
          }
          if (phase === "download") collect(received);
        },
      });
    }
    if (process.env.BENCH_TRACE) {
      const m = process.memoryUsage();
      process.stderr.write(
        `end ab=${m.arrayBuffers >> 20} heap=${m.heapTotal >> 20} rss=${m.rss >> 20} max=${peakRss() >> 20}\n`,
      );
    }
    const seconds = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    const mib = Object.fromEntries(Object.entries(peak).map(([k, v]) => [k, Math.round(v / MB)]));
    process.stdout.write(`${JSON.stringify({ seconds, rss: peakRss(), rssBefore, peakMiB: mib })}\n`);
  } finally {
    await profile.close();
  }
}

interface ChildResult {
  seconds: number;
  rss: number;
  rssBefore: number;
}

/**
 * The children run this file bundled into one, as the CLI runs (scripts/bundle-node.mjs): loaded
 * module by module they started about 13 MiB above the CLI, which is not what people run.
 */
let childScript = fileURLToPath(import.meta.url);
async function bundleChild(): Promise<void> {
  const bundler = new URL("../../../scripts/bundle-node.mjs", import.meta.url).href;
  const { bundleNodeProgram } = (await import(bundler)) as {
    bundleNodeProgram: (o: {
      packageDir: string;
      name: string;
      label: string;
      input: string;
    }) => Promise<void>;
  };
  const packageDir = fileURLToPath(new URL("../../", import.meta.url));
  await bundleNodeProgram({
    packageDir,
    name: "files-child.bundle.mjs",
    label: "the files bench's children",
    input: childScript,
  });
  childScript = join(packageDir, "dist", "files-child.bundle.mjs");
}

async function runChild(args: string[]): Promise<ChildResult> {
  const self = childScript;
  // `BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"` (or --heap-prof…) profiles the children.
  const extra = (process.env.BENCH_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const run = spawnChild(process.execPath, ["--expose-gc", ...cliNodeFlags(), ...extra, self, ...args], {
    env: { ...process.env, ...cliNodeEnv() },
    deadlineMs: 10 * 60 * 1000,
  });
  const exit = await run.closed(10 * 60 * 1000);
  if (exit.code !== 0) throw new Error(`bench child ${args[0]} failed: ${run.stderr()}`);
  if (process.env.BENCH_VERBOSE) process.stderr.write(`${args[0]}: ${run.stderr()}${run.stdout()}`);
  return JSON.parse(run.stdout().trim().split("\n").pop()!) as ChildResult;
}

/** Plain HTTP: a blob of `size` bytes uploaded from `path` in 4 MiB PUTs, then downloaded whole. */
async function plainHttp(url: string, path: string, size: number): Promise<{ up: number; down: number }> {
  const res = await fetch(`${url}/v1/blobs`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ size }),
  });
  const blob = (await res.json()) as CreateBlobResponse;
  const file = await open(path, "r");
  const piece = Buffer.alloc(4 * MB + 16 * 16);
  const t0 = performance.now();
  for (let at = 0; at < size; ) {
    const n = Math.min(piece.length, size - at);
    // The file is a little shorter than the blob (padding): the rest of the piece is zeros.
    const { bytesRead } = await file.read(piece, 0, n, at);
    piece.fill(0, bytesRead, n);
    const put = await fetch(`${url}/v1/blobs/${blob.blobId}?offset=${at}`, {
      method: "PUT",
      headers: { "content-type": "application/octet-stream", [BLOB_CAP_HEADER]: blob.writeCap },
      body: piece.subarray(0, n),
    });
    if (!put.ok) throw new Error(`plain PUT failed: ${await put.text()}`);
    at += n;
  }
  const up = (performance.now() - t0) / 1000;
  await file.close();
  const t1 = performance.now();
  const get = await fetch(`${url}/v1/blobs/${blob.blobId}`);
  const hash = createHash("sha256");
  for await (const chunk of get.body!) hash.update(chunk as Uint8Array);
  hash.digest();
  const down = (performance.now() - t1) / 1000;
  return { up, down };
}

async function main(): Promise<void> {
  await bundleChild();
  const loadStart = loadavg().map((l) => round(l, 2));
  const relay = await startRelayProcess({
    dataDir: join(temp("relay"), "data"),
    args: ["--log-level", "warn", "--max-file-mb", String(FILE_MB + 16)],
    stderr: "inherit",
  });
  try {
    const alice = temp("alice");
    const bob = temp("bob");
    await cliJson(alice, "init", "--name", "Alice", "--server", relay.url);
    await cliJson(bob, "init", "--name", "Bob", "--server", relay.url);
    const { link } = await cliJson<{ link: string }>(alice, "invite");
    await cliJson(bob, "accept", link);
    await cliJson(alice, "sync");
    await cliJson(bob, "sync");

    const work = temp("files");
    const path = join(work, "big.bin");
    writeFileSync(path, "");
    const chunk = Buffer.alloc(MB);
    for (let i = 0; i < FILE_MB; i++) {
      for (let j = 0; j < MB; j += 4) chunk.writeUInt32LE((Math.random() * 2 ** 32) >>> 0, j);
      writeFileSync(path, chunk, { flag: "a" });
    }
    const bytes = FILE_MB * MB;
    const size = blobSizeForFile(bytes);

    // ROUNDS interleaved rounds (plain, then ours, each way): the plain rates move a lot from one
    // moment to the next on a shared machine (a plain 200 MB download: 145–420 MB/s across runs), so
    // each share is taken within its round and the median round is reported.
    const out = join(work, "received.bin");
    const rounds: { plain: { up: number; down: number }; send: ChildResult; get: ChildResult }[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const plain = await plainHttp(relay.url, path, size);
      const send = await runChild(["--send", alice, "Bob", path]);
      await cliJson(bob, "sync");
      const files = await cliJson<{ id: string }[]>(bob, "files", "Alice");
      const get = await runChild(["--get", bob, files[files.length - 1]!.id, `${out}.${r}`]);
      const same =
        createHash("sha256")
          .update(readFileSync(`${out}.${r}`))
          .digest("hex") === createHash("sha256").update(readFileSync(path)).digest("hex");
      if (!same) throw new Error("the received file differs from the one sent");
      rmSync(`${out}.${r}`);
      rounds.push({ plain, send, get });
    }
    const medianBy = <T>(items: T[], key: (t: T) => number): T =>
      [...items].sort((a, b) => key(a) - key(b))[Math.floor(items.length / 2)]!;
    const upRound = medianBy(rounds, (r) => r.plain.up / r.send.seconds);
    const downRound = medianBy(rounds, (r) => r.plain.down / r.get.seconds);
    const plain = { up: upRound.plain.up, down: downRound.plain.down };
    const send = { ...upRound.send, rss: Math.max(...rounds.map((r) => r.send.rss)) };
    const get = { ...downRound.get, rss: Math.max(...rounds.map((r) => r.get.rss)) };
    const shares = (k: "up" | "down") =>
      rounds
        .map((r) => `${round((100 * r.plain[k]) / (k === "up" ? r.send : r.get).seconds, 0)} %`)
        .join(", ");

    // The real CLI, as people run it: its peak RSS (written at exit by a preloaded module).
    // Peaks are VmHWM, not maxRSS, which for a child counts what this process held at the spawn.
    const hook = join(work, "rss-hook.mjs");
    writeFileSync(hook, PEAK_RSS_HOOK);
    const cli = async (home: string, ...args: string[]) => {
      const rssFile = join(work, `rss-${args[0]}`);
      const t0 = performance.now();
      const r = await runCli(home, ["--json", ...args], {
        timeoutMs: 10 * 60 * 1000,
        env: { ...process.env, NODE_OPTIONS: `--import ${hook}`, PARLEY_RSS_FILE: rssFile },
      });
      const seconds = (performance.now() - t0) / 1000;
      if (r.code !== 0) throw new Error(`parley ${args[0]} failed: ${r.stdout} ${r.stderr}`);
      return { seconds, rss: Number(readFileSync(rssFile, "utf8")), value: JSON.parse(r.stdout) };
    };
    // As many runs as rounds: the highest peak of each command, the median wall time.
    const cliRuns: { send: { seconds: number; rss: number }; get: { seconds: number; rss: number } }[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const send = await cli(alice, "send-file", "Bob", path);
      await cliJson(bob, "sync");
      const get = await cli(bob, "get-file", (send.value as { file: { id: string } }).file.id, `${out}.cli`);
      rmSync(`${out}.cli`);
      cliRuns.push({ send, get });
    }
    const cliOf = (k: "send" | "get") => ({
      rss: Math.max(...cliRuns.map((r) => r[k].rss)),
      seconds: medianBy(cliRuns, (r) => r[k].seconds)[k].seconds,
    });
    const cliSend = cliOf("send");
    const cliGet = cliOf("get");

    const mbps = (seconds: number) => round(bytes / 1e6 / seconds, 1);
    const rows = [
      {
        what: "upload",
        "plain HTTP MB/s": mbps(plain.up),
        "encrypt+upload MB/s": mbps(send.seconds),
        "share of plain": `${round((100 * plain.up) / send.seconds, 0)} %`,
        "shares by round": shares("up"),
        "peak RSS MiB": round(send.rss / MB, 0),
        "RSS before MiB": round(send.rssBefore / MB, 0),
        "CLI peak RSS MiB": round(cliSend.rss / MB, 0),
        "CLI wall MB/s": mbps(cliSend.seconds),
      },
      {
        what: "download",
        "plain HTTP MB/s": mbps(plain.down),
        "download+decrypt MB/s": mbps(get.seconds),
        "share of plain": `${round((100 * plain.down) / get.seconds, 0)} %`,
        "shares by round": shares("down"),
        "peak RSS MiB": round(get.rss / MB, 0),
        "RSS before MiB": round(get.rssBefore / MB, 0),
        "CLI peak RSS MiB": round(cliGet.rss / MB, 0),
        "CLI wall MB/s": mbps(cliGet.seconds),
      },
    ];
    writeResults("files", rows, {
      fileMB: FILE_MB,
      rounds: ROUNDS,
      blobBytes: size,
      targets: { shareOfPlain: ">= 50 %", peakRssMiB: "<= 100 each" },
      loadAverage: { atStart: loadStart, atEnd: loadavg().map((l) => round(l, 2)) },
      cliNodeFlags: cliNodeFlags(),
      cliNodeEnv: cliNodeEnv(),
      note: "shared 2-core machine (see loadAverage); MB/s and share of plain measured inside each process around sendFile/getFile only, the median of `rounds` interleaved rounds (each round's share in 'shares by round'); peak RSS: the highest of the rounds; CLI columns: the real `parley send-file`/`get-file` of the same file, `rounds` times: the highest peak RSS, the median wall clock including start-up",
    });
  } finally {
    await relay.stop();
  }
}

if (process.argv[2]?.startsWith("--")) await child(process.argv.slice(2));
else await main();
