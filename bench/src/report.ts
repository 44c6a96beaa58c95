/** Shared benchmark plumbing: timing, medians, the commit measured, and the table + JSON output. */
import { execSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const resultsDir = fileURLToPath(new URL("../../results/", import.meta.url));

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

export function commit(): string {
  try {
    const sha = execSync("git rev-parse --short HEAD", { encoding: "utf8" }).trim();
    const dirty = execSync("git status --porcelain", { encoding: "utf8" }).trim() ? "+dirty" : "";
    return sha + dirty;
  } catch {
    return "unknown";
  }
}

export const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

export function writeResults(
  name: string,
  rows: Record<string, unknown>[],
  extra: Record<string, unknown> = {},
) {
  console.table(rows);
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${name}.json`);
  const doc = {
    benchmark: name,
    commit: commit(),
    node: process.version,
    date: new Date().toISOString(),
    // The machine is shared: every result says how busy it was when written, and what else ran
    // (BENCH_MACHINE_NOTE, e.g. "other work confined to a cpu.idle cgroup").
    loadAverageAtEnd: loadavg().map((l) => round(l, 2)),
    ...(process.env.BENCH_MACHINE_NOTE ? { machine: process.env.BENCH_MACHINE_NOTE } : {}),
    ...extra,
    rows,
  };
  writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
  console.log(JSON.stringify(doc));
  console.log(`results written to ${file}`);
}
