// Which file runs the CLI: the single-file bundle that `npm run build` makes (dist/bundle/main.js:
// one file to read and compile instead of ~200 modules of ours and ~300 of our dependencies, which
// starts about twice as fast; every test drives hundreds of `parley` processes), or the modules
// themselves when a package was compiled again after the bundle was made (`tsc -b` alone, while
// working on the code), so a stale bundle never runs.
import { statSync } from "node:fs";
import { fileURLToPath } from "node:url";

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
export const BUNDLE = here("../dist/bundle/main.js");
export const MODULES = here("../dist/src/main.js");
const COMPILED = ["cli", "core", "node", "protocol"].map((p) => here(`../../${p}/dist/tsconfig.tsbuildinfo`));

const mtime = (path) => {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
};

/** The path of the file to run. */
export function cliEntry() {
  const bundled = mtime(BUNDLE);
  if (bundled === undefined) return MODULES;
  return COMPILED.every((p) => (mtime(p) ?? 0) <= bundled) ? BUNDLE : MODULES;
}
