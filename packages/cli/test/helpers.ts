/** Test helpers: a real relay process and real `parley` CLI invocations, nothing mocked (@parley/testkit). */
import {
  type CliResult,
  cliJson,
  type RelayProcess,
  runCli,
  startRelayProcess as startRelay,
  tempDir as testkitTempDir,
} from "@parley/testkit";

export type { CliResult, RelayProcess };

export const tempDir = (name: string) => testkitTempDir(name);

/** The relay bin on `dataDir` (its own process group; `stop()` SIGTERMs it, SIGKILL after 10 s). */
export const startRelayProcess = (dataDir: string, port = 0): Promise<RelayProcess> =>
  startRelay({ dataDir, port });

/** `parley --home <home> <args…>`, killed (whole group) after 60 s. */
export const parley = (home: string, ...args: string[]): Promise<CliResult> => runCli(home, args);

/** Runs a CLI command with --json and parses its output; fails loudly if it did not succeed. */
export const parleyJson = <T = unknown>(home: string, ...args: string[]): Promise<T> =>
  cliJson<T>(home, ...args);
