#!/usr/bin/env node
// A committed shim, so npm can link `parley-server` at install time, before `prepare` builds dist/.
import "../dist/src/main.js";
