#!/usr/bin/env node
// Bundles the built relay (dist/src/main.js and the workspace packages it imports) into one file,
// dist/relay.bundle.mjs, which bin/parley-server.js runs when it is up to date.
//
// Why: the relay loaded some 600 module files at start — resolving, opening and compiling each —
// 1.55 s of CPU on the 2-core machine before it listened; every end-to-end test starts relays, and
// an operator restarting a node waits for it. The same compiled modules, joined by rolldown (as the
// CLI's scripts/bundle.mjs). Native modules stay outside; so does the checkpoint thread's module
// (a Worker loads it by path: store/sqlite/checkpointer.ts finds it from the package's folder).
import { statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "rolldown";

const dist = fileURLToPath(new URL("../dist/", import.meta.url));
await build({
  input: `${dist}src/main.js`,
  platform: "node",
  // better-sqlite3 loads its native addon by path; ws's and pg's optional helpers are native too.
  external: [/^node:/, "better-sqlite3", "bufferutil", "utf-8-validate", "pg-native"],
  output: {
    file: `${dist}relay.bundle.mjs`,
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
  `bundled the relay: dist/relay.bundle.mjs, ${(statSync(`${dist}relay.bundle.mjs`).size / 1024).toFixed(0)} KiB`,
);
