/** Test helpers: a real relay process and real `parley` CLI invocations, nothing mocked. */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../../../", import.meta.url));
export const CLI = join(root, "packages/cli/dist/src/main.js");
export const SERVER = join(root, "packages/server/dist/src/main.js");

export const tempDir = (name: string) => mkdtempSync(join(tmpdir(), `parley-${name}-`));

export interface RelayProcess {
  url: string;
  port: number;
  dataDir: string;
  stop(): Promise<void>;
}

export async function startRelayProcess(dataDir: string, port = 0): Promise<RelayProcess> {
  const child = spawn(process.execPath, [SERVER, "--port", String(port), "--data", dataDir], {
    stdio: ["ignore", "pipe", "pipe"],
    detached: true, // its own process group: stopChild can end it whatever it started
  });
  let stderr = "";
  child.stderr!.on("data", (d) => {
    stderr += d;
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`relay did not start: ${stderr}`)), 15_000);
    const lines = createInterface({ input: child.stdout! });
    lines.on("line", (line) => {
      const m = /listening on (http:\/\/[^\s]+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once("exit", (code) => reject(new Error(`relay exited with ${code}: ${stderr}`)));
  });
  return { url, port: Number(new URL(url).port), dataDir, stop: () => stopChild(child) };
}

/** SIGTERM to the child's process group, then SIGKILL if it has not exited within `deadlineMs`. */
export function stopChild(child: ChildProcess, deadlineMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const signal = (s: NodeJS.Signals) => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, s);
    } catch {
      child.kill(s); // not a group leader (spawned without detached)
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

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function parley(home: string, ...args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, "--home", home, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? 1) : 0;
      resolve({ code: typeof code === "number" ? code : 1, stdout, stderr });
    });
  });
}

/** Runs a CLI command with --json and parses its output; fails loudly if it did not succeed. */
export async function parleyJson<T = unknown>(home: string, ...args: string[]): Promise<T> {
  const r = await parley(home, "--json", ...args);
  if (r.code !== 0) throw new Error(`parley ${args.join(" ")} failed (${r.code}): ${r.stdout} ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}
