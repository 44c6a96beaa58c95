// Joins a package's built modules (dist/src/main.js and the workspace packages it imports) into one
// file, dist/<name>, which the package's bin runs when it is up to date (both bins check that
// against the packages' builds). Used by packages/cli and packages/server (their scripts/bundle.mjs).
//
// Why: `parley` and `parley-server` loaded hundreds of module files at start — resolving, opening
// and compiling each — before the first line of our code ran (CLI 1.4 → 0.45 s of CPU bundled,
// relay 0.6 → 0.3 s). Nothing changes in what runs: the same compiled modules, joined by rolldown
// (the bundler Vite already uses for the web app).
//
// Minified with names kept (for errors and logs; the source map gives the rest): V8 keeps a
// bundle's whole source text in memory, ours is half comments, and one Chinese character made all
// of it two-byte text; comments dropped and non-ASCII written as escapes, `parley contacts` peaks at
// 68 MiB instead of 76 (bundle 2,370 → 1,500 KiB).
import { statSync } from "node:fs";
import { join } from "node:path";
import { build } from "rolldown";

/** Native addons are loaded by path at run time, and optional native helpers may be absent. */
const NATIVE = ["better-sqlite3", "bufferutil", "utf-8-validate", "pg-native"];

export async function bundleNodeProgram({ packageDir, name, label, input }) {
  const dist = join(packageDir, "dist");
  const file = join(dist, name);
  await build({
    input: input ?? join(dist, "src", "main.js"),
    platform: "node",
    external: [/^node:/, ...NATIVE],
    output: {
      file,
      format: "esm",
      codeSplitting: false,
      sourcemap: true,
      minify: true,
      keepNames: true,
      comments: false,
      charset: "ascii",
    },
    logLevel: "warn",
  });
  console.log(`bundled ${label}: dist/${name}, ${(statSync(file).size / 1024).toFixed(0)} KiB`);
}
