#!/usr/bin/env node
// Runs each benchmark in its own process (bench/dist/src/*.js except shared modules), in order.
// `npm run bench -- one-to-one` runs only the named ones.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";

const dir = new URL("../bench/dist/src/", import.meta.url).pathname;
const shared = new Set([
  "report.js",
  "relay-metrics.js",
  "frames.js",
  "crypto-floor.js",
  "groups-measure.js",
  "groups-growth.js",
  "groups-profile.js",
]);
const only = process.argv.slice(2);
const all = readdirSync(dir).filter((f) => f.endsWith(".js") && !shared.has(f));
// A name that is a bench's whole name runs that bench alone ("feed" is not also "web-feed").
const benches = all.filter(
  (f) => only.length === 0 || only.some((o) => (all.includes(`${o}.js`) ? f === `${o}.js` : f.includes(o))),
);
let failed = 0;
for (const file of benches) {
  console.log(`\n## ${file.replace(/\.js$/, "")}`);
  const r = spawnSync(process.execPath, ["--expose-gc", join(dir, file)], { stdio: "inherit" });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
