/**
 * Child processes that cannot outlive a test: each is spawned in its own process group
 * (`detached: true`), so one `process.kill(-pid, "SIGKILL")` ends it and everything it started;
 * each has a deadline; and any still running when this process exits is killed then.
 */
import { type ChildProcess, type SpawnOptions, spawn } from "node:child_process";
import { appendFileSync } from "node:fs";

/** Every child spawned here and not yet exited: killed (the whole group) when this process exits. */
const live = new Set<ChildProcess>();
let exitHook = false;

/**
 * scripts/run-tests.mjs names a file here: every child's pid (its process group) is listed in it,
 * and "exited <pid>" once it has exited, so the runner can kill the ones still running even when
 * this process was killed by its deadline and could not.
 */
const childList = process.env.PARLEY_TESTKIT_CHILDREN;

function listChild(line: string): void {
  if (!childList) return;
  try {
    appendFileSync(childList, `${line}\n`);
  } catch {
    // the runner's list is a safety net, not a requirement
  }
}

function track(child: ChildProcess): void {
  if (child.pid !== undefined) {
    const pid = child.pid;
    listChild(String(pid));
    // Gone: its pid may be reused, so the runner must not kill that group any more.
    child.once("exit", () => listChild(`exited ${pid}`));
  }
  live.add(child);
  child.once("exit", () => live.delete(child));
  if (!exitHook) {
    exitHook = true;
    process.once("exit", () => {
      for (const c of live) killGroup(c);
    });
  }
}

/** The children spawned through the testkit that are still running (for leak checks). */
export const liveChildren = (): number => live.size;

/** Sends `signal` to the child's whole process group; never throws (the group may be gone). */
export function killGroup(child: ChildProcess, signal: NodeJS.Signals = "SIGKILL"): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal); // not a group leader (spawned without detached)
    } catch {
      // already gone
    }
  }
}

const hasExited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

/** Rejects with "`what`: not within `ms` ms" unless `promise` settles first; clears its timer. */
export function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Resolves when the child has exited (at once if it already has). */
export function exitOf(child: ChildProcess): Promise<Exit> {
  if (hasExited(child)) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
}

/**
 * SIGTERM to the child's process group, SIGKILL to the group if it has not exited within
 * `deadlineMs`; resolves once it has exited, or (a process stuck in the kernel) 5 s after the SIGKILL
 * at the latest. Its pipes are destroyed either way, so no open handle keeps the test alive.
 */
export async function stopChild(child: ChildProcess, deadlineMs = 10_000): Promise<void> {
  if (!hasExited(child)) {
    const exited = exitOf(child);
    killGroup(child, "SIGTERM");
    try {
      await within(deadlineMs, "stop", exited);
    } catch {
      killGroup(child, "SIGKILL");
      await within(5000, "exit after SIGKILL", exited).catch(() => {});
    }
  }
  // Whatever the group leader left behind in the group.
  killGroup(child, "SIGKILL");
  for (const s of [child.stdin, child.stdout, child.stderr]) s?.destroy();
}

export interface SpawnedOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** "pipe" to write to the child (`child.stdin`); default "ignore". */
  stdin?: "ignore" | "pipe";
  /**
   * "read" (default) collects stderr, "unread" leaves the pipe to fill up, "closed" closes the
   * reading end at once (the child's writes then fail with EPIPE), "inherit" shares this process's.
   */
  stderr?: "read" | "unread" | "closed" | "inherit";
  /** The child's whole life: its group is killed after this long. Default 10 minutes. */
  deadlineMs?: number;
}

export interface Spawned {
  child: ChildProcess;
  pid: number;
  /** What it wrote to stdout and (when read) stderr so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the next stdout text (so far, or to come) that matches `pattern`, within `ms`. */
  waitForOutput(pattern: RegExp, ms: number, what?: string): Promise<RegExpExecArray>;
  /** Resolves with how it exited, or rejects after `ms`. */
  exited(ms: number): Promise<Exit>;
  /** Like `exited`, but also waits for the end of its output (every pipe closed). */
  closed(ms: number): Promise<Exit>;
  /** stopChild: SIGTERM, then SIGKILL after `deadlineMs`. */
  stop(deadlineMs?: number): Promise<void>;
  /** SIGKILL to its whole group, now. */
  kill(): void;
}

/** Spawns `command args` in its own process group, with a deadline on its whole life. */
export function spawnChild(command: string, args: string[], options: SpawnedOptions = {}): Spawned {
  const stderrMode = options.stderr ?? "read";
  const spawnOptions: SpawnOptions = {
    cwd: options.cwd,
    env: options.env,
    stdio: [options.stdin ?? "ignore", "pipe", stderrMode === "inherit" ? "inherit" : "pipe"],
    detached: true,
  };
  const child = spawn(command, args, spawnOptions);
  if (child.pid === undefined) {
    // spawn failed (ENOENT, …): "error" follows; make it an exit rather than an uncaught error.
    child.once("error", () => {});
  }
  track(child);
  let out = "";
  let err = "";
  const outWaiters = new Set<() => void>();
  child.stdout!.on("data", (d) => {
    out += d;
    for (const w of outWaiters) w();
  });
  if (stderrMode === "read") child.stderr!.on("data", (d) => (err += d));
  if (stderrMode === "closed") child.stderr!.destroy();
  const lifetime = setTimeout(() => killGroup(child), options.deadlineMs ?? 10 * 60 * 1000);
  lifetime.unref();
  const exit = exitOf(child);
  void exit.then(() => clearTimeout(lifetime));
  const close = new Promise<Exit>((resolve) =>
    child.once("close", (code: number | null, signal: NodeJS.Signals | null) => resolve({ code, signal })),
  );
  return {
    child,
    pid: child.pid ?? -1,
    stdout: () => out,
    stderr: () => err,
    waitForOutput(pattern, ms, what = `output matching ${pattern}`) {
      let check: (() => void) | undefined;
      const found = new Promise<RegExpExecArray>((resolve, reject) => {
        check = () => {
          const m = pattern.exec(out);
          if (m) resolve(m);
        };
        outWaiters.add(check);
        check();
        void exit.then(({ code, signal }) =>
          reject(new Error(`${what}: the process exited (${signal ?? code}) first: ${err || out}`)),
        );
      });
      return within(ms, what, found)
        .catch((e: Error) => {
          throw new Error(`${e.message}${err ? `\nstderr: ${err}` : ""}`);
        })
        .finally(() => {
          if (check) outWaiters.delete(check);
        });
    },
    exited: (ms) => within(ms, "exit", exit),
    closed: (ms) => within(ms, "exit and end of output", close),
    stop: (deadlineMs) => stopChild(child, deadlineMs),
    kill: () => killGroup(child),
  };
}
