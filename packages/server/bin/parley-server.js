#!/usr/bin/env node
// A committed shim, so npm can link `parley-server` at install time, before `prepare` builds dist/.
//
// It runs the one-file bundle `npm run build` makes (scripts/bundle.mjs: half the start-up CPU,
// 0.6 → 0.3 s to the first answer) when that bundle is at least as new as every package build it
// holds; after a `tsc -b` that rebuilt one of them, and with no bundle, it runs the compiled modules
// themselves, so it never runs code older than the build.
import { statSync } from "node:fs";

const bundle = new URL("../dist/relay.bundle.mjs", import.meta.url);
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
  ["server", "protocol"].every(
    (pkg) => (mtime(new URL(`../../${pkg}/dist/tsconfig.tsbuildinfo`, import.meta.url)) ?? 0) <= built,
  );
await import(fresh ? bundle.href : "../dist/src/main.js");
