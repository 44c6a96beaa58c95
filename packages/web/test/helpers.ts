/** Helpers for the browser tests: a real relay serving the built app, real CLI runs, real Chromium. */
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CLI_MAIN, cliJson, SERVER_MAIN, startRelayProcess } from "@parley/testkit";

// Compiled to packages/web/dist/test/test/helpers.js.
export const ROOT = fileURLToPath(new URL("../../../../../", import.meta.url));
export const WEB_DIST = join(ROOT, "packages/web/dist");
export const SERVER = SERVER_MAIN;
export const CLI = CLI_MAIN;
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
  /** Its data directory (to look at what it stores). */
  dataDir: string;
  stop(): Promise<void>;
  /** Starts it again on the same port and data, after `stop` (pages keep their URL). */
  start(): Promise<void>;
}

/** `parley-server --port 0 --data <tmp> --static packages/web/dist` (@parley/testkit: its own process group). */
export async function startRelay(): Promise<RelayProcess> {
  const dataDir = tempDir("relay");
  const args = ["--static", WEB_DIST];
  let relay = await startRelayProcess({ dataDir, args });
  return {
    url: relay.url,
    dataDir,
    stop: () => relay.stop(),
    async start() {
      relay = await startRelayProcess({ dataDir, args, port: relay.port });
    },
  };
}

/** Runs `parley --home <home> --json <args…>` and parses its JSON output; throws if it failed. */
export const parleyJson = <T = unknown>(home: string, ...args: string[]): Promise<T> =>
  cliJson<T>(home, ...args);

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
