/**
 * Profiling helper for the groups bench (not run by `npm run bench`): one operation of groups-measure,
 * in this process, on a group grown once and cached in the system's temporary directory, so that a
 * `node --cpu-prof` run profiles the operation and not the growth.
 *
 *     node [--cpu-prof --cpu-prof-dir=DIR] bench/dist/src/groups-profile.js N OP [REPS] [IMPL]
 *
 * OP: commitCreate | commitProcess | join | add100 | messages | grow (only builds the fixture).
 * The fixture (PARLEY_GROUPS_FIXTURE_DIR, default tmpdir) is keyed by N and the implementation that
 * grew it; delete it after a change to the serialized state format.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deserialize, serialize } from "node:v8";
import { createIdentity, type NewIdentity, Rfc9420Engine } from "@parley/core";
import { nodeCryptoProvider } from "@parley/core/node";
import { TsMlsEngine } from "@parley/core/ts-mls";
import { type Built, grow } from "./groups-growth.js";
import { type Impl, type Job, type Op, runJob } from "./groups-measure.js";
import { median, round } from "./report.js";

const crypto = nodeCryptoProvider;
const [nArg, opArg, repsArg, implArg] = process.argv.slice(2);
const n = Number(nArg ?? 2000);
const op = (opArg ?? "commitCreate") as Op | "grow";
const reps = Number(repsArg ?? 5);
const impl = (implArg ?? "rfc9420") as Impl;
const log = (...a: unknown[]) => console.error(`[profile ${new Date().toISOString().slice(11, 19)}]`, ...a);

const key = impl === "rfc9420" ? "rfc9420" : "tsmls";
const file = join(process.env.PARLEY_GROUPS_FIXTURE_DIR ?? tmpdir(), `parley-groups-fixture-${key}-${n}.v8`);

async function fixture(): Promise<Built> {
  if (existsSync(file)) return deserialize(readFileSync(file)) as Built;
  log(`growing N=${n} (${key}) into ${file}`);
  const people: NewIdentity[] = [];
  for (let i = 0; i < n + 64; i++) people.push(await createIdentity(crypto));
  const engine = key === "rfc9420" ? new Rfc9420Engine(crypto) : new TsMlsEngine(crypto);
  const b = await grow(engine, n, people, 3_600_000, log);
  writeFileSync(file, serialize(b));
  log(`grown in ${round(b.buildMs / 1000, 1)} s`);
  return b;
}

/**
 * PARLEY_PROFILE_CPU=1: the engine operations again, timed by this process's CPU time (user + system,
 * every thread) as well as wall time — on a loaded machine wall time mostly measures the wait for a
 * core, CPU time the work (but counts thread-pool work that ran in parallel).
 */
async function cpuTimes(b: Built): Promise<void> {
  const engine = new Rfc9420Engine(crypto);
  await engine.inspectKeyPackage(b.lastBatch[0]!);
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const series: Record<string, { wall: number[]; cpu: number[] }> = {};
  const measure = async (name: string, f: () => Promise<unknown> | unknown) => {
    const c = cpu();
    const t = performance.now();
    await f();
    const s = series[name] ?? { wall: [], cpu: [] };
    series[name] = s;
    s.wall.push(performance.now() - t);
    s.cpu.push(cpu() - c);
  };
  const commit =
    op === "commitProcess" ? (await engine.commit(engine.deserialize(b.creator), {})).commits[0] : undefined;
  for (let i = 0; i < reps; i++) {
    if (op === "commitCreate") {
      const s = engine.deserialize(b.creator);
      await measure("commitCreate", () => engine.commit(s, {}));
    } else if (op === "commitProcess") {
      {
        const m = engine.deserialize(b.member);
        let r: Awaited<ReturnType<typeof engine.process>> | undefined;
        await measure("commitProcess", async () => {
          r = await engine.process(m, commit!);
        });
        await measure("persist", () => engine.serialize(r!.state));
      }
    } else if (op === "join") {
      const joiner = new Rfc9420Engine(crypto);
      await joiner.inspectKeyPackage(b.lastBatch[0]!);
      await measure("join", () => joiner.joinFromWelcome(b.welcome, b.joiner));
    } else if (op === "add100") {
      const s = engine.deserialize(b.beforeLast);
      await measure("add100", () => engine.commit(s, { add: b.lastBatch }));
    }
  }
  for (const [name, s] of Object.entries(series)) {
    console.log(
      `N=${n} ${name}: wall median ${round(median(s.wall), 2)} ms, cpu median ${round(median(s.cpu), 2)} ms [${s.cpu.map((x) => round(x, 1)).join(" ")}]`,
    );
  }
}

const b = await fixture();
if (op !== "grow" && process.env.PARLEY_PROFILE_CPU === "1") await cpuTimes(b);
else if (op !== "grow") {
  const job: Job = {
    impl,
    op,
    reps,
    creator: b.creator,
    member: b.member,
    beforeLast: b.beforeLast,
    lastBatch: b.lastBatch,
    welcome: b.welcome,
    joiner: b.joiner,
  };
  if (op === "commitProcess") job.commit = (await runJob({ ...job, op: "commitCreate", reps: 1 })).commit;
  const r = await runJob(job);
  const show = (t: number[]) => `median ${round(median(t), 3)} ms [${t.map((x) => round(x, 1)).join(" ")}]`;
  console.log(`N=${n} ${impl} ${op}: ${show(r.times)}`);
  if (r.times2) console.log(`  second series (persist / decrypt): ${show(r.times2)}`);
  if (r.commit) console.log(`  commit bytes ${r.commit.length}`);
  if (r.bytes) console.log(`  state bytes ${r.bytes}`);
}
process.exit(0);
