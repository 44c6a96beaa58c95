/**
 * Peak memory of a process, measured right. `process.resourceUsage().maxRSS` is not it for a child:
 * Linux keeps the largest RSS across `exec`, and a spawned child starts as a fork of its parent, so
 * its maxRSS is at least what the parent held when it spawned it (a test runner, a benchmark that
 * read a 200 MB file: 220 MiB "peak" for a CLI that never held 100). VmHWM in /proc/self/status is
 * the high-water mark of the process's own address space, reset by exec.
 */
import { readFileSync } from "node:fs";

/** This process's peak resident memory in bytes (VmHWM; maxRSS where /proc is not there). */
export function peakRss(): number {
  try {
    const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync("/proc/self/status", "utf8"));
    if (hwm) return Number(hwm[1]) * 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS * 1024;
}

/**
 * A module to preload (`NODE_OPTIONS=--import <file>`) into a process whose peak memory is wanted:
 * at exit it writes peakRss() to the file named by $PARLEY_RSS_FILE.
 */
export const PEAK_RSS_HOOK = `import { readFileSync, writeFileSync } from "node:fs";
process.on("exit", () => {
  if (!process.env.PARLEY_RSS_FILE) return;
  let bytes = process.resourceUsage().maxRSS * 1024;
  try {
    const hwm = /^VmHWM:\\s+(\\d+) kB$/m.exec(readFileSync("/proc/self/status", "utf8"));
    if (hwm) bytes = Number(hwm[1]) * 1024;
  } catch {}
  writeFileSync(process.env.PARLEY_RSS_FILE, String(bytes));
});
`;
