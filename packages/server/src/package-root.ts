/**
 * Where this package lies on disk, found from the running code: the nearest folder above it whose
 * package.json is @parley/server's. The same answer whether the relay runs as compiled modules
 * (dist/src/…) or as the one-file bundle (dist/relay.bundle.mjs, scripts/bundle.mjs), so files
 * that are not code — the web app, the checkpoint thread's module — are found either way.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let root: string | undefined;

export function serverPackageRoot(): string {
  if (root !== undefined) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === "@parley/server") {
          root = dir;
          return dir;
        }
      } catch {
        // not a package manifest we can read: keep looking above
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error("the @parley/server package folder was not found above the running code");
    dir = up;
  }
}
