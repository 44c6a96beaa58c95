/**
 * Large MLS groups, in-process (no relay), in ONE run: for each N (default 2,000 and 10,000), medians of
 *  - commitCreateMs    an update (path-only) commit created by the group's creator;
 *  - commitProcessMs   that commit processed by another member;
 *  - persistMs         serializing the state that processing returned, loaded as a client's store
 *                      hands it back (what a client writes after a commit: both parts of
 *                      SerializedGroupState and the tree pieces its store lacks; stateBytes is the
 *                      whole state's size, savedBytesAfterCommit what that save writes);
 *  - joinMs            joining from the Welcome of the last batch (ratchet tree inside the GroupInfo,
 *                      all of §12.4.3.1's tree validation, every member's certificate checked);
 *  - add100Ms          adding 100 members to the group of N − 100 in one commit;
 *  - encryptMs / decryptMs   one 100 B application message (after 1,000 untimed ones: steady state);
 * for Rfc9420Engine (`rfc9420`), Rfc9420Engine on the post-quantum suite X-Wing 0xF00D (`rfc9420-pq`,
 * its own group grown the same way; at N ≤ BENCH_GROUP_PQ_MAX_N, default 2,000), today's TsMlsEngine
 * (`tsmls-engine`) and plain ts-mls (`ts-mls`: default provider, unsafe testing auth, whole state
 * through clientStateEncoder, on TsMlsEngine's group). `pqRatio` per N: rfc9420-pq / rfc9420.
 *
 * Groups grow the way real ones do (groups-growth.ts): batches added by three admins in turn, and
 * between batches a newcomer's update, removals and an admin's update. Each operation runs in a
 * child process with a deadline (BENCH_GROUP_DEADLINE_S, default 60 s; 120 s for our engine): a
 * timed-out one records "over X s" (or the median of the repetitions done within it).
 *
 * The crypto floor (crypto-floor.ts) is measured in the same run.
 *
 * BENCH_GROUP_SIZES=2000,10000 (the default) chooses the sizes; BENCH_GROUP_RAW=0 skips TsMlsEngine
 * and plain ts-mls, BENCH_GROUP_RAW_MAX_N=2000 runs them only up to that N; BENCH_GROUP_IMPLS=rfc9420,rfc9420-pq,tsmls-engine,ts-mls picks implementations.
 */
import { fork } from "node:child_process";
import { writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createIdentity, type NewIdentity } from "@parley/core";
import { nodeCryptoProvider } from "@parley/core/node";
import { measureCryptoFloor } from "./crypto-floor.js";
import { type Built, grow } from "./groups-growth.js";
import { engineOf, type Impl, type Job, type Op } from "./groups-measure.js";
import { median, round, writeResults } from "./report.js";

const crypto = nodeCryptoProvider;
const SIZES = (process.env.BENCH_GROUP_SIZES ?? "2000,10000").split(",").map(Number);
const RAW = process.env.BENCH_GROUP_RAW !== "0";
const IMPLS = (process.env.BENCH_GROUP_IMPLS ?? "rfc9420,rfc9420-pq,tsmls-engine,ts-mls")
  .split(",")
  .filter((i) => RAW || i.startsWith("rfc9420")) as Impl[];
const PQ_MAX_N = Number(process.env.BENCH_GROUP_PQ_MAX_N ?? 2000);
/** TsMlsEngine and plain ts-mls only at N ≤ this (growing a TsMlsEngine group of 10,000 takes ~15 min). */
const RAW_MAX_N = Number(process.env.BENCH_GROUP_RAW_MAX_N ?? Number.POSITIVE_INFINITY);
const DEADLINE_S = Number(process.env.BENCH_GROUP_DEADLINE_S ?? 60);
const BUILD_DEADLINE_S = Number(process.env.BENCH_GROUP_BUILD_DEADLINE_S ?? 900);
/**
 * Repetitions per job, each job in a fresh process: its first one or two are cold (the JIT, the seal
 * worker starting) — with 5 and 3 they were often the median on a busy machine.
 */
const reps = (n: number) => (n <= 2000 ? 7 : 5);
const log = (...args: unknown[]) =>
  console.error(`[groups ${new Date().toISOString().slice(11, 19)}]`, ...args);

interface Series {
  times: number[];
  times2: number[];
  commit?: Uint8Array;
  /** Size of the update commit: ~82 bytes per HPKE ciphertext of its path (the tree's resolutions). */
  commitBytes?: number;
  bytes?: number;
  written?: number;
  /** Set when the deadline stopped the job. */
  overS?: number;
  /** Set when the implementation failed the operation. */
  error?: string;
}

function runWorker(job: Job, deadlineS: number): Promise<Series> {
  const out: Series = { times: [], times2: [] };
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(new URL("./groups-measure.js", import.meta.url)), [], {
      serialization: "advanced",
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    let settled = false;
    const settle = (f: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      f();
      child.kill("SIGKILL");
    };
    const timer = setTimeout(() => {
      out.overS = deadlineS;
      settle(() => resolve(out));
    }, deadlineS * 1000);
    child.on("message", (m: Message) => {
      if (m.series !== undefined) out[m.series].push(m.ms!);
      if (m.commit !== undefined) out.commit = new Uint8Array(m.commit);
      if (m.commitBytes !== undefined) out.commitBytes = m.commitBytes;
      if (m.bytes !== undefined) out.bytes = m.bytes;
      if (m.written !== undefined) out.written = m.written;
      if (m.error !== undefined) settle(() => reject(new Error(`${job.impl} ${job.op}: ${m.error}`)));
      if (m.done) settle(() => resolve(out));
    });
    child.on("error", (e) => settle(() => reject(e)));
    child.on("exit", () => settle(() => resolve(out)));
    child.send(job);
  });
}

interface Message {
  series?: "times" | "times2";
  ms?: number;
  commit?: Uint8Array;
  commitBytes?: number;
  bytes?: number;
  written?: number;
  done?: boolean;
  error?: string;
}

/** A median, or "over X s" when the deadline came before the first repetition ended. */
function cell(s: Series | undefined, which: "times" | "times2", digits = 2): number | string | null {
  if (s === undefined) return null;
  const v = s[which];
  if (v.length === 0) return s.overS !== undefined ? `over ${s.overS} s` : (s.error ?? null);
  return round(median(v), digits);
}

async function measure(impl: Impl, b: Built, n: number): Promise<Record<string, unknown>> {
  const deadline = impl === "rfc9420" ? 120 : impl === "rfc9420-pq" ? 600 : DEADLINE_S;
  const job = (op: Op, extra: Partial<Job> = {}): Job => ({
    impl,
    op,
    reps: reps(n),
    creator: b.creator,
    member: b.member,
    beforeLast: b.beforeLast,
    lastBatch: b.lastBatch,
    welcome: b.welcome,
    joiner: b.joiner,
    ...extra,
  });
  const run = async (op: Op, extra: Partial<Job> = {}) => {
    log(`N=${n} ${impl}: ${op}`);
    let r: Series;
    try {
      r = await runWorker(job(op, extra), deadline);
    } catch (e) {
      log(`N=${n} ${impl}: ${op} failed: ${e}`);
      r = { times: [], times2: [], error: String(e).split("\n")[0]!.slice(0, 200) };
    }
    log(
      `N=${n} ${impl}: ${op} ${r.times.map((t) => Math.round(t)).join(" ")}${r.overS ? " (deadline)" : ""}`,
    );
    return r;
  };
  const create = await run("commitCreate");
  // Kept for plain ts-mls (same group), in case its own create misses the deadline.
  if (impl === "tsmls-engine" && create.commit) b.commitFallback = create.commit;
  // Plain ts-mls processes TsMlsEngine's commit when its own create did not finish in time.
  const commit = create.commit ?? b.commitFallback;
  const process = commit ? await run("commitProcess", { commit }) : undefined;
  const join = await run("join");
  const add100 = await run("add100");
  const messages = await run("messages");
  return {
    commitCreateMs: cell(create, "times"),
    commitProcessMs: cell(process, "times"),
    joinMs: cell(join, "times"),
    add100Ms: cell(add100, "times"),
    persistAfterCommitMs: cell(process, "times2", 3),
    stateBytes: process?.bytes ?? null,
    savedBytesAfterCommit: process?.written ?? null,
    commitBytes: create.commitBytes ?? null,
    encryptMs: cell(messages, "times", 3),
    decryptMs: cell(messages, "times2", 3),
    ...(create.commit === undefined && b.commitFallback ? { processedCommitOf: "tsmls-engine" } : {}),
  };
}

const floor = measureCryptoFloor();
log("crypto floor", JSON.stringify(floor));
const rows: Record<string, unknown>[] = [];
for (const n of SIZES) {
  // The floor again for each N: the machine is shared, and its load moves within one run.
  const floorN = measureCryptoFloor();
  log(`N=${n}: crypto floor`, JSON.stringify(floorN));
  log(`N=${n}: identities`);
  const people: NewIdentity[] = [];
  for (let i = 0; i < n + 64; i++) people.push(await createIdentity(crypto));
  const builds = new Map<"rfc9420" | "rfc9420-pq" | "tsmls", Built | string>();
  for (const impl of IMPLS) {
    if (impl === "rfc9420-pq" && n > PQ_MAX_N) {
      rows.push({
        N: n,
        impl,
        cryptoFloor: floorN,
        error: `not run (N > BENCH_GROUP_PQ_MAX_N = ${PQ_MAX_N})`,
      });
      continue;
    }
    if ((impl === "tsmls-engine" || impl === "ts-mls") && n > RAW_MAX_N) {
      rows.push({
        N: n,
        impl,
        cryptoFloor: floorN,
        error: `not run (N > BENCH_GROUP_RAW_MAX_N = ${RAW_MAX_N})`,
      });
      continue;
    }
    const key = impl === "rfc9420" || impl === "rfc9420-pq" ? impl : "tsmls";
    if (!builds.has(key)) {
      log(`N=${n}: growing the group with ${key}`);
      try {
        builds.set(key, await grow(engineOf(impl), n, people, BUILD_DEADLINE_S * 1000, log));
      } catch (e) {
        log(`N=${n}: growing with ${key} failed: ${e}`);
        builds.set(key, String(e));
      }
    }
    const b = builds.get(key)!;
    const row: Record<string, unknown> = { N: n, impl, cryptoFloor: floorN };
    if (typeof b === "string") row.error = b;
    else {
      Object.assign(row, await measure(impl, b, n), { growS: round(b.buildMs / 1000, 1), growth: b.history });
      // The machine is shared: its load when this implementation's measurements ended.
      row.loadAverage = loadavg().map((l) => round(l, 2));
    }
    rows.push(row);
    log(JSON.stringify(row));
  }
  // Partial results survive a run stopped later on (outside the repository, which must stay clean).
  writeFileSync(
    join(tmpdir(), "parley-groups.partial.json"),
    `${JSON.stringify({ cryptoFloor: floor, rows }, null, 2)}\n`,
  );
}

// The table: per operation, Rfc9420Engine / TsMlsEngine / plain ts-mls.
const ops = [
  ["commit create", "commitCreateMs"],
  ["commit process", "commitProcessMs"],
  ["join", "joinMs"],
  ["add 100", "add100Ms"],
  ["persist after commit", "persistAfterCommitMs"],
  ["encrypt", "encryptMs"],
  ["decrypt", "decryptMs"],
  ["state bytes", "stateBytes"],
  ["bytes saved after a commit", "savedBytesAfterCommit"],
] as const;
const table = ops.map(([name, key]) => {
  const line: Record<string, unknown> = { op: name };
  for (const n of SIZES) {
    line[`N=${n}`] = IMPLS.map((i) => rows.find((r) => r.N === n && r.impl === i)?.[key] ?? "-").join(" / ");
  }
  return line;
});
// The post-quantum suite's cost: rfc9420-pq / rfc9420, per operation and N.
const pqRatio: Record<string, Record<string, number | null>> = {};
for (const n of SIZES) {
  const [classic, pq] = ["rfc9420", "rfc9420-pq"].map((i) => rows.find((r) => r.N === n && r.impl === i));
  if (classic === undefined || pq === undefined) continue;
  const ratios: Record<string, number | null> = {};
  for (const key of [
    "commitCreateMs",
    "commitProcessMs",
    "joinMs",
    "add100Ms",
    "stateBytes",
    "commitBytes",
  ]) {
    const [a, b] = [classic[key], pq[key]];
    ratios[key] = typeof a === "number" && typeof b === "number" && a > 0 ? round(b / a, 2) : null;
  }
  pqRatio[`N=${n}`] = ratios;
}
console.log(`\nms, medians — ${IMPLS.join(" / ")}`);
console.table(table);
if (Object.keys(pqRatio).length > 0) {
  console.log("\npost-quantum (X-Wing) / suite 1, Rfc9420Engine");
  console.table(pqRatio);
}
writeResults("groups", rows, {
  note:
    "rfc9420: Rfc9420Engine; rfc9420-pq: Rfc9420Engine on X-Wing (0xF00D); tsmls-engine: TsMlsEngine " +
    "(all node crypto provider, Parley authentication, " +
    "split persistence); ts-mls: plain ts-mls 2.0.0-rc.10, default provider, unsafe testing auth, " +
    "clientStateEncoder, on TsMlsEngine's group. 'over X s': stopped at the deadline.",
  cryptoFloor: floor,
  table,
  pqRatio,
});
process.exit(0);
