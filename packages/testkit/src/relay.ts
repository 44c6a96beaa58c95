/** A real relay process (the built `parley-server`), its own process group, stopped with a deadline. */
import { join } from "node:path";
import { SERVER_MAIN } from "./paths.js";
import { type Spawned, type SpawnedOptions, spawnChild } from "./process.js";
import { type Cleanup, tempDir } from "./temp.js";

export interface RelayProcessOptions {
  /** `--data` directory; default a fresh temp directory. Ignored when `args` has `--store` or `--config`, or `env` PARLEY_STORE. */
  dataDir?: string;
  /** Default 0: any free port (a restart may ask for the port it had). */
  port?: number;
  /** More command-line options (`--pow-bits 8`, `--static dir`, …). */
  args?: string[];
  /** Options for node itself, before the script (`--cpu-prof`, …). */
  nodeArgs?: string[];
  /** The script to run instead of the built `parley-server` (another build of it, for A/B benches). */
  main?: string;
  /** Its environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** How its stderr is handled (process.ts); default "read". */
  stderr?: SpawnedOptions["stderr"];
  /** How long it may take to print its ready line; default 15 s. */
  startDeadlineMs?: number;
  /** Its whole life: its group is killed after this long (process.ts `deadlineMs`; default 10 minutes). */
  lifeMs?: number;
  /** Stops it (SIGTERM, SIGKILL after 10 s) when this test context ends. */
  cleanup?: Cleanup;
}

export interface RelayProcess extends Spawned {
  /** Its base URL, e.g. http://127.0.0.1:41234 (no trailing slash). */
  url: string;
  port: number;
  dataDir: string;
}

const READY = /^Parley relay listening on (http:\/\/\S+?)\/? \(data: .+\)$/m;

/** Starts `parley-server --port <port> --data <dir> …` and resolves once it prints its ready line. */
export async function startRelayProcess(options: RelayProcessOptions = {}): Promise<RelayProcess> {
  const dataDir = options.dataDir ?? join(tempDir("relay", options.cleanup), "data");
  const args = options.args ?? [];
  // A store named by the arguments, a config file or the environment: no --data (it would win).
  const named =
    args.includes("--store") || args.includes("--config") || options.env?.["PARLEY_STORE"] !== undefined;
  const where = named ? [] : ["--data", dataDir];
  const spawned = spawnChild(
    process.execPath,
    [
      ...(options.nodeArgs ?? []),
      options.main ?? SERVER_MAIN,
      "--port",
      String(options.port ?? 0),
      ...where,
      ...args,
    ],
    {
      stderr: options.stderr,
      ...(options.env ? { env: options.env } : {}),
      ...(options.lifeMs !== undefined ? { deadlineMs: options.lifeMs } : {}),
    },
  );
  options.cleanup?.after(() => spawned.stop());
  let url: string;
  try {
    url = (await spawned.waitForOutput(READY, options.startDeadlineMs ?? 15_000, "relay start"))[1]!;
  } catch (e) {
    await spawned.stop(1000);
    throw e;
  }
  return { ...spawned, url, port: Number(new URL(url).port), dataDir };
}
