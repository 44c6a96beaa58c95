#!/usr/bin/env node
// Runs every compiled test file (packages/*/dist/test/**/*.test.js) with node's own test runner, one
// `node --test` process per file, PARLEY_TEST_CONCURRENCY (default 2) files at a time, and prints
// each file's output when it ends (never interleaved), then the totals.
//
// Why processes of our own rather than one `node --test --test-concurrency` over all files: a file
// whose tests pass but which leaves something running (a relay child whose start timed out, with
// its pipes still open) never exits, and Node 20's runner has no per-file deadline; it also reports
// files in order, so the run stalls with every process idle and shows the *next* file as the one
// that "never started". The helpers no longer leak such children (@parley/testkit kills a child
// whose start fails, and every child has a deadline), and this runner bounds whatever is left: each
// file has a deadline, its process group is killed when it ends, and so is every child the testkit
// started for it in a group of its own (their pids are listed in PARLEY_TESTKIT_CHILDREN). A file
// that hits its deadline is reported, and run once more; a second hang fails the run.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const only = process.argv.slice(2);
// The slowest file (the browser suite) takes 1–2 min on a loaded 2-core machine.
const FILE_DEADLINE_MS = Number(process.env.PARLEY_TEST_FILE_DEADLINE_MS ?? 4 * 60 * 1000);
const CONCURRENCY = Math.max(
  1,
  Number(process.env.PARLEY_TEST_CONCURRENCY ?? Math.min(2, availableParallelism())),
);

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
// The long end-to-end files first, so the run does not end with one of them alone.
const slow = (f) => /e2e|dos\.test|cli\.test/.test(f);
selected.sort((a, b) => Number(slow(b)) - Number(slow(a)));

const scratch = mkdtempSync(join(tmpdir(), "parley-run-tests-"));
process.on("exit", () => rmSync(scratch, { recursive: true, force: true }));

function killGroup(pid) {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // the group is already gone
  }
}

/**
 * The process groups the testkit started for one file (a pid a line, "exited <pid>" once gone):
 * those not gone are killed once the file ends.
 */
function killTestkitChildren(list) {
  let text = "";
  try {
    text = readFileSync(list, "utf8");
  } catch {
    return;
  }
  const running = new Set();
  for (const line of text.split("\n")) {
    const [word, pid] = line.startsWith("exited ") ? ["exited", Number(line.slice(7))] : ["", Number(line)];
    if (!Number.isInteger(pid) || pid <= 1) continue;
    if (word === "exited") running.delete(pid);
    else running.add(pid);
  }
  for (const pid of running) killGroup(pid);
  rmSync(list, { force: true });
}

let runs = 0;

/** What the diagnostic reports of a hung file say: each process's JavaScript stack and live handles. */
function hangReports(dir) {
  let names;
  try {
    names = readdirSync(dir).filter((n) => n.endsWith(".json"));
  } catch {
    return "\n(no diagnostic report was written)\n";
  }
  let text = "";
  for (const name of names) {
    try {
      const r = JSON.parse(readFileSync(join(dir, name), "utf8"));
      const handles = (r.libuv ?? [])
        // The loop's own handles (async, check, prepare, signal…) are always there: left out.
        .filter(
          (h) => h.is_active && !["async", "check", "prepare", "idle", "loop", "signal"].includes(h.type),
        )
        .map(
          (h) =>
            `${h.type}${h.remoteEndpoint ? ` → ${JSON.stringify(h.remoteEndpoint)}` : ""}${h.pid ? ` pid ${h.pid}` : ""}`,
        );
      text +=
        `\n── hang report: ${r.header?.commandLine?.join(" ")}\n` +
        `   JS stack: ${(r.javascriptStack?.stack ?? []).slice(0, 12).join("\n             ") || "(idle: waiting on the handles below)"}\n` +
        `   active handles: ${handles.join(", ") || "none"}\n`;
    } catch (e) {
      text += `\n(unreadable report ${name}: ${e})\n`;
    }
  }
  return text || "\n(no diagnostic report was written)\n";
}
/** Runs one file; resolves with its exit code, its pass/fail counts, and whether it hit the deadline. */
function runFile(file) {
  return new Promise((resolve) => {
    const children = join(scratch, `children-${++runs}`);
    const reports = join(scratch, `reports-${runs}`);
    mkdirSync(reports);
    // Its own process group, so a deadline kills whatever the test file started (CLIs, Chromium)
    // along with it; relays it started in groups of their own are listed in `children`.
    const child = spawn(process.execPath, ["--test", "--test-reporter=spec", file], {
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
      env: {
        ...process.env,
        PARLEY_TESTKIT_CHILDREN: children,
        // At the deadline every Node process of the file (the runner and the file's own process)
        // writes a diagnostic report before it is killed: what it was doing, what kept it alive.
        NODE_OPTIONS: [
          process.env.NODE_OPTIONS ?? "",
          "--report-on-signal",
          "--report-signal=SIGUSR2",
          `--report-directory=${reports}`,
        ].join(" "),
      },
    });
    const started = Date.now();
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      err += d;
    });
    let timedOut = false;
    let killTimer;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid, "SIGUSR2");
      } catch {
        // already gone
      }
      killTimer = setTimeout(() => {
        err += hangReports(reports);
        killGroup(child.pid);
        killTestkitChildren(children);
      }, 3000);
    }, FILE_DEADLINE_MS);
    child.on("close", (code) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      killGroup(child.pid); // anything the file left running
      killTestkitChildren(children);
      process.stdout.write(out);
      process.stderr.write(err);
      console.log(`\n── ${file.slice(root.length)}: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
      const count = (label) => Number(new RegExp(`ℹ ${label} (\\d+)`).exec(out)?.[1] ?? 0);
      resolve({ code: code ?? 1, passed: count("pass"), failed: count("fail"), timedOut });
    });
  });
}

let passed = 0;
let failed = 0;
const failedFiles = [];
async function runOne(file) {
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

const queue = [...selected];
await Promise.all(
  Array.from({ length: Math.min(CONCURRENCY, queue.length) }, async () => {
    for (let file = queue.shift(); file !== undefined; file = queue.shift()) await runOne(file);
  }),
);
if (failedFiles.length) console.error(`\nfailed files:\n  ${failedFiles.join("\n  ")}`);
console.log(`\ntests: ${passed} passed, ${failed} failed`);
process.exit(failedFiles.length ? 1 : 0);
