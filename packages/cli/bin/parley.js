#!/usr/bin/env -S MALLOC_MMAP_THRESHOLD_=131072 node --max-semi-space-size=1
// A committed shim, so npm can link the `parley` command at install time, before `prepare` builds dist/.
// The first line starts Node with a young generation of at most 1 MiB per semi-space: a file
// transfer allocates fast, and V8 otherwise grows its young generation to 16 MiB per semi-space
// (about 30 MiB held for the rest of the process) for no speed a CLI notices. It also fixes glibc's
// mmap threshold at its default of 128 KiB: otherwise the first freed file chunk (256 KiB) raises
// it, every later chunk comes from the main heap, and that heap, fragmented, does not shrink (a
// 200 MB get-file peaked 7–9 MiB higher). Other C libraries ignore the variable. Tests and
// benchmarks run the CLI with the variables and flags of this line (@parley/testkit cliNodeFlags,
// cliNodeEnv).
//
// It runs the one-file bundle `npm run build` makes (scripts/bundle.mjs: a third of the start-up
// time) when that bundle is at least as new as every package build it holds; after a `tsc -b` that
// rebuilt one of them, and with no bundle, it runs the compiled modules themselves, so it never
// runs code older than the build.
import { statSync } from "node:fs";

const bundle = new URL("../dist/parley.bundle.mjs", import.meta.url);
const mtime = (url) => {
  try {
    return statSync(url).mtimeMs;
  } catch {
    return undefined;
  }
};
const built = mtime(bundle);
const fresh =
  built !== undefined &&
  ["cli", "core", "node", "protocol", "i18n"].every(
    (pkg) => (mtime(new URL(`../../${pkg}/dist/tsconfig.tsbuildinfo`, import.meta.url)) ?? 0) <= built,
  );
await import(fresh ? bundle.href : "../dist/src/main.js");
