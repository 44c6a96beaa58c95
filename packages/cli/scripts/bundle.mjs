#!/usr/bin/env node
// The CLI as one file, dist/parley.bundle.mjs, which bin/parley.js runs when it is up to date:
// `parley` is a short-lived process, started for every command (and dozens of times by every
// end-to-end test). See scripts/bundle-node.mjs at the repository's root.
import { fileURLToPath } from "node:url";
import { bundleNodeProgram } from "../../../scripts/bundle-node.mjs";

await bundleNodeProgram({
  packageDir: fileURLToPath(new URL("..", import.meta.url)),
  name: "parley.bundle.mjs",
  label: "the CLI",
});
