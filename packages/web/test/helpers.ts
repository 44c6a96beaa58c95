/** Helpers for the browser tests: a real relay serving the built app, real CLI runs, real Chromium. */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

// Compiled to packages/web/dist/test/test/helpers.js.
export const ROOT = fileURLToPath(new URL("../../../../../", import.meta.url));
export const WEB_DIST = join(ROOT, "packages/web/dist");
export const SERVER = join(ROOT, "packages/server/dist/src/main.js");
export const CLI = join(ROOT, "packages/cli/dist/src/main.js");
export const OUTPUT = join(ROOT, "test-output");
export const CHROMIUM = "/usr/bin/chromium";

/** The flags this machine's closed network needs (no background calls home) plus headless basics. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export const tempDir = (name: string) => mkdtempSync(join(tmpdir(), `parley-web-${name}-`));

/**
 * Why the browser suite cannot run here, or null when it can. Without Chromium it is skipped with
 * this reason on a developer's machine; under CI=true the caller turns it into a failure.
 */
export function browserSuiteUnavailable(): string | null {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is missing (apt-get install -y chromium)`;
  if (!existsSync(join(WEB_DIST, "index.html"))) return "packages/web/dist is not built (npm run build)";
  if (!existsSync(SERVER)) return "the relay is not built (npm run build)";
  return null;
}

export interface RelayProcess {
  url: string;
  stop(): Promise<void>;
}

/** `node packages/server/dist/src/main.js --port 0 --data <tmp> --static packages/web/dist`. */
export async function startRelay(): Promise<RelayProcess> {
  const child = spawn(
    process.execPath,
    [SERVER, "--port", "0", "--data", tempDir("relay"), "--static", WEB_DIST],
    { stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  let stderr = "";
  child.stderr!.on("data", (d) => {
    stderr += d;
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`relay did not start: ${stderr}`)), 15_000);
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const m = /listening on (http:\/\/[^\s]+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!.replace(/\/$/, ""));
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`relay exited with ${code}: ${stderr}`));
    });
  });
  return { url, stop: () => stopChild(child) };
}

/** SIGTERM to the relay's process group, then SIGKILL if it has not exited within the deadline. */
function stopChild(child: ChildProcess, deadlineMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const signal = (s: NodeJS.Signals) => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, s);
    } catch {
      child.kill(s);
    }
  };
  return new Promise((resolve) => {
    const timer = setTimeout(() => signal("SIGKILL"), deadlineMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    signal("SIGTERM");
  });
}

/** Runs `parley --home <home> --json <args…>` and parses its JSON output; throws if it failed. */
export function parleyJson<T = unknown>(home: string, ...args: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [CLI, "--home", home, "--json", ...args],
      { timeout: 60_000 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`parley ${args.join(" ")} failed: ${stdout} ${stderr}`));
        try {
          resolve(JSON.parse(stdout) as T);
        } catch {
          reject(new Error(`parley ${args.join(" ")} printed no JSON: ${stdout} ${stderr}`));
        }
      },
    );
  });
}

/** Polls `check` until it returns a value (not undefined), or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 15_000,
  what = "condition",
) {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ""}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
