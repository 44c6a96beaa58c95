#!/usr/bin/env node
// A committed shim, so npm can link the `parley` command at install time, before `prepare` builds
// dist/. It runs the bundle when it is current, else the compiled modules (entry.js says why).
import { pathToFileURL } from "node:url";
import { cliEntry } from "./entry.js";

await import(pathToFileURL(cliEntry()).href);
