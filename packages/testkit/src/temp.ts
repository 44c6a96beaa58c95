import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Something that runs cleanups: a node:test context (`t`) or suite. */
export interface Cleanup {
  after(fn: () => void | Promise<void>): void;
}

/** A fresh directory under the system temp dir; removed when `cleanup` (a test context) ends. */
export function tempDir(name: string, cleanup?: Cleanup): string {
  const dir = mkdtempSync(join(tmpdir(), `parley-${name}-`));
  cleanup?.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A profile folder for the CLI (`parley --home <dir>`), not yet created inside: `init` makes it. */
export function tempProfile(name: string, cleanup?: Cleanup): string {
  return join(tempDir(`profile-${name}`, cleanup), "home");
}
