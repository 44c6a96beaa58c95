#!/usr/bin/env node
// Bundles the built CLI (dist/src/main.js and the workspace packages it imports) into one file,
// dist/parley.bundle.mjs, which bin/parley.js runs when it is up to date.
//
// Why: `parley` is a short-lived process, started for every command (and dozens of times by every
// end-to-end test). Unbundled it loads some 400 module files — resolving, opening and compiling
// each — and that took 1.4 s of CPU before the first line of our code ran (`parley --help` on the
// 2-core machine, --cpu-prof: 60 % module loading); the bundle starts in 0.45 s. Nothing is
// changed in what runs: the same compiled modules, joined by rolldown (the bundler Vite already
// uses for the web app). Native and optional modules stay outside.
import { statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "rolldown";

const dist = fileURLToPath(new URL("../dist/", import.meta.url));
await build({
  input: `${dist}src/main.js`,
  platform: "node",
  // better-sqlite3 loads its native addon by path; ws's optional helpers are native too.
  external: [/^node:/, "better-sqlite3", "bufferutil", "utf-8-validate"],
  output: {
    file: `${dist}parley.bundle.mjs`,
    format: "esm",
    codeSplitting: false,
    sourcemap: true,
    // Minified (names kept, for errors and logs; the source map gives the rest): V8 keeps a
    // bundle's whole source text in memory, and ours is half comments; as one-byte text (ASCII,
    // non-ASCII written as escapes) instead of two-byte. `parley contacts`: peak RSS 76 → 68 MiB,
    // which is what brought a 200 MB get-file under 100 MB (bench/src/files.ts).
    minify: true,
    keepNames: true,
    comments: false,
    charset: "ascii",
  },
  logLevel: "warn",
});
console.log(
  `bundled the CLI: dist/parley.bundle.mjs, ${(statSync(`${dist}parley.bundle.mjs`).size / 1024).toFixed(0)} KiB`,
);
