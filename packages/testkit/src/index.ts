/**
 * @parley/testkit: what tests and benchmarks need to run Parley for real — a relay process, CLI
 * runs, temp profiles — with every child in its own process group and killed by a deadline.
 * It imports no Parley package: it runs the built bins (`npm run build` first).
 */
export { type CliOptions, type CliResult, cliJson, runCli, spawnCli } from "./cli.js";
export { PEAK_RSS_HOOK, peakRss } from "./memory.js";
export { CLI_BIN, CLI_MAIN, cliNodeEnv, cliNodeFlags, ROOT, SERVER_MAIN } from "./paths.js";
export {
  type Exit,
  exitOf,
  killGroup,
  liveChildren,
  type Spawned,
  type SpawnedOptions,
  spawnChild,
  stopChild,
  within,
} from "./process.js";
export { type RelayProcess, type RelayProcessOptions, startRelayProcess } from "./relay.js";
export { type Cleanup, tempDir, tempProfile } from "./temp.js";
