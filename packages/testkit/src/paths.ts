import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (this file is packages/testkit/dist/src/paths.js once built). */
export const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
/**
 * The built relay (`parley-server`) and the CLI (`parley`) as people run them. PARLEY_SERVER_MAIN
 * runs another build of the relay instead (a benchmark of an older commit with today's harness).
 */
export const SERVER_MAIN =
  process.env.PARLEY_SERVER_MAIN ?? join(ROOT, "packages/server/bin/parley-server.js");
/** The `parley` executable as installed: a shim whose first line gives Node its flags. */
export const CLI_BIN = join(ROOT, "packages/cli/bin/parley.js");
export const CLI_MAIN = CLI_BIN;

/**
 * The Node flags `parley` starts with (the first line of CLI_BIN): tests and benchmarks run
 * `node <flags> CLI_MAIN`, so the process they measure is the one people run.
 */
export function cliNodeFlags(): string[] {
  return (shebang().match(/^#!.*\bnode\b(.*)$/)?.[1] ?? "").split(" ").filter((f) => f.startsWith("--"));
}

/** The environment variables `parley` starts Node with (`NAME=VALUE` before `node` on CLI_BIN's first line). */
export function cliNodeEnv(): Record<string, string> {
  const before = shebang().match(/^#!.*?env -S (.*?)\bnode\b/)?.[1] ?? "";
  return Object.fromEntries(
    before
      .split(" ")
      .map((word) => /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(word))
      .filter((m) => m !== null)
      .map((m) => [m[1]!, m[2]!]),
  );
}

const shebang = () => readFileSync(CLI_BIN, "utf8").split("\n", 1)[0] ?? "";
