/**
 * A real relay for core's in-process client tests: the built relay bin as a child process in its
 * own process group (core cannot import @parley/server: the server depends on core, so that would
 * be a build cycle). `stop` asks it to exit, and kills the whole group after a deadline.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("../../../server/dist/src/main.js", import.meta.url));
const START_DEADLINE_MS = 20_000;
const STOP_DEADLINE_MS = 3_000;

export interface RelayProcess {
  url: string;
  stop(): Promise<void>;
}

export async function startRelayProcess(): Promise<RelayProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), "parley-core-relay-"));
  const child = spawn(process.execPath, [MAIN, "--port", "0", "--data", dataDir, "--log-level", "silent"], {
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const killGroup = () => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  };
  let url: string;
  try {
    url = await new Promise<string>((resolve, reject) => {
      let out = "";
      let err = "";
      const timer = setTimeout(() => reject(new Error(`relay did not start: ${err}`)), START_DEADLINE_MS);
      child.stdout!.on("data", (d) => {
        out += d;
        const m = /listening on (\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      child.stderr!.on("data", (d) => {
        err += d;
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`relay exited (${code}): ${err}`));
      });
    });
  } catch (e) {
    killGroup();
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
  return {
    url,
    async stop() {
      await stopChild(child, killGroup);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** SIGTERM, then SIGKILL to the whole group if it has not exited by the deadline. Never hangs. */
async function stopChild(child: ChildProcess, killGroup: () => void): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return killGroup();
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, STOP_DEADLINE_MS);
  });
  await Promise.race([exited, deadline]);
  clearTimeout(timer);
  killGroup();
  child.stdout?.destroy();
  child.stderr?.destroy();
}
