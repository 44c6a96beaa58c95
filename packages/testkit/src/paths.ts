import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (this file is packages/testkit/dist/src/paths.js once built). */
export const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
/**
 * The built relay (`parley-server`) and the CLI (`parley`) as people run them: the CLI's bin, which
 * runs its bundle when that is current (packages/cli/bin/entry.js). PARLEY_SERVER_MAIN runs another
 * build of the relay instead (a benchmark of an older commit with today's harness).
 */
export const SERVER_MAIN = process.env.PARLEY_SERVER_MAIN ?? join(ROOT, "packages/server/dist/src/main.js");
export const CLI_MAIN = join(ROOT, "packages/cli/bin/parley.js");
