#!/usr/bin/env node
// The relay as one file, dist/relay.bundle.mjs, which bin/parley-server.js runs when it is up to
// date (every end-to-end test starts relays; an operator restarting a node waits for it). See
// scripts/bundle-node.mjs at the repository's root. The checkpoint thread's module stays a file of
// its own (a Worker loads it by path: store/sqlite/checkpointer.ts finds it from the package's folder).
import { fileURLToPath } from "node:url";
import { bundleNodeProgram } from "../../../scripts/bundle-node.mjs";

await bundleNodeProgram({
  packageDir: fileURLToPath(new URL("..", import.meta.url)),
  name: "relay.bundle.mjs",
  label: "the relay",
});
