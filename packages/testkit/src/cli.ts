/** Runs of the built `parley` CLI, each in its own process group with a deadline. */
import { CLI_MAIN, cliNodeEnv, cliNodeFlags } from "./paths.js";
import { type Spawned, type SpawnedOptions, spawnChild } from "./process.js";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Written to its stdin, which is then closed. */
  input?: string;
  /** Its group is killed after this long (the result then has code 1 and says so); default 60 s. */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** `parley --home <home> <args…>`: resolves with its exit code and output (never rejects). */
export async function runCli(home: string, args: string[], options: CliOptions = {}): Promise<CliResult> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const run = spawnChild(process.execPath, [...cliNodeFlags(), CLI_MAIN, "--home", home, ...args], {
    stdin: options.input === undefined ? "ignore" : "pipe",
    env: { ...(options.env ?? process.env), ...cliNodeEnv() },
    deadlineMs: timeoutMs,
  });
  if (options.input !== undefined) run.child.stdin!.end(options.input);
  const exit = await run.closed(timeoutMs + 5000).catch(() => null);
  await run.stop(1000); // the group, and the pipes
  const stdout = run.stdout();
  const stderr = run.stderr();
  if (exit === null || exit.signal === "SIGKILL") {
    return { code: 1, stdout, stderr: `${stderr}\n(killed after ${timeoutMs} ms)` };
  }
  return { code: exit.code ?? 1, stdout, stderr };
}

/** `parley --home <home> --json <args…>`, parsed; throws with its output if it failed. */
export async function cliJson<T = unknown>(home: string, ...args: string[]): Promise<T> {
  const r = await runCli(home, ["--json", ...args]);
  if (r.code !== 0) throw new Error(`parley ${args.join(" ")} failed (${r.code}): ${r.stdout} ${r.stderr}`);
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`parley ${args.join(" ")} printed no JSON: ${r.stdout} ${r.stderr}`);
  }
}

/** A long-running `parley --home <home> <args…>` (`listen`): stop it with `stop()`. */
export function spawnCli(home: string, args: string[], options: SpawnedOptions = {}): Spawned {
  return spawnChild(process.execPath, [...cliNodeFlags(), CLI_MAIN, "--home", home, ...args], {
    ...options,
    env: { ...(options.env ?? process.env), ...cliNodeEnv() },
  });
}
