#!/usr/bin/env -S node --max-semi-space-size=1
// A committed shim, so npm can link the `parley` command at install time, before `prepare` builds dist/.
// The first line starts Node with a young generation of at most 1 MiB per semi-space: a file
// transfer allocates fast, and V8 otherwise grows its young generation to 16 MiB per semi-space
// (about 30 MiB held for the rest of the process) for no speed a CLI notices. Tests and benchmarks
// run the CLI with the flags of this line (@parley/testkit cliNodeFlags).
import "../dist/src/main.js";
