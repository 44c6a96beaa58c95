#!/usr/bin/env node
// Runs every compiled test file (packages/*/dist/test/**/*.test.js) with node's own test runner, one
// `node --test` process per file, one file at a time, and prints the totals at the end.
//
// Why not one `node --test` over all files: on Node 20 whole-suite runs with --test-concurrency
// hung now and then with every process idle (a file that passes alone in seconds never started its
// tests). One process per file, each with a deadline, bounds a CI run: a file that hangs is killed,
// reported, and run once more; a second hang fails the run.
import { spawn } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const only = process.argv.slice(2);
const FILE_DEADLINE_MS = Number(process.env.PARLEY_TEST_FILE_DEADLINE_MS ?? 6 * 60 * 1000);

function walk(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (name.endsWith(".test.js")) out.push(path);
  }
  return out;
}

const files = [];
for (const pkg of readdirSync(join(root, "packages")))
  walk(join(root, "packages", pkg, "dist", "test"), files);
const selected = only.length ? files.filter((f) => only.some((o) => f.includes(o))) : files;
if (selected.length === 0) {
  console.error("no test files found: run `npm run build` first");
  process.exit(1);
}

function killGroup(child) {
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    // the group is already gone
  }
}

/** Runs one file; resolves with its exit code, its pass/fail counts, and whether it hit the deadline. */
function runFile(file) {
  return new Promise((resolve) => {
    // Its own process group, so a deadline kills whatever the test file started (relays, CLIs,
    // Chromium) along with it, and nothing outlives the run.
    const child = spawn(process.execPath, ["--test", "--test-reporter=spec", file], {
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      process.stdout.write(d);
    });
    child.stderr.on("data", (d) => process.stderr.write(d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child);
    }, FILE_DEADLINE_MS);
    child.on("close", (code) => {
      clearTimeout(timer);
      killGroup(child); // anything the file left running
      const count = (label) => Number(new RegExp(`ℹ ${label} (\\d+)`).exec(out)?.[1] ?? 0);
      resolve({ code: code ?? 1, passed: count("pass"), failed: count("fail"), timedOut });
    });
  });
}

let passed = 0;
let failed = 0;
const failedFiles = [];
for (const file of selected) {
  let r = await runFile(file);
  if (r.timedOut) {
    console.error(
      `\n!! ${file} did not finish within ${FILE_DEADLINE_MS / 1000} s: killed, running it once more`,
    );
    r = await runFile(file);
    if (r.timedOut) console.error(`!! ${file} hung again`);
  }
  passed += r.passed;
  failed += r.failed;
  if (r.code !== 0 || r.timedOut) {
    failedFiles.push(file);
    if (r.failed === 0) failed += 1; // a crash or a hang with no failing test counted
  }
}
if (failedFiles.length) console.error(`\nfailed files:\n  ${failedFiles.join("\n  ")}`);
console.log(`\ntests: ${passed} passed, ${failed} failed`);
process.exit(failedFiles.length ? 1 : 0);
