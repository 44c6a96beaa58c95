#!/usr/bin/env node
/**
 * `parley`: the scriptable Parley client (its commands: program.ts). The language is chosen before
 * the command line is parsed, so `--help` and commander's titles speak it too: the profile's choice
 * (`--home`, else $PARLEY_HOME, else ~/.parley), else the shell's; `--json` is English.
 */
import { resolveHome } from "@parley/node";
import { protectDashIds } from "./dash-ids.js";
import { localizeHelp } from "./help.js";
import { languageFor, useLanguage } from "./i18n.js";
import { program } from "./program.js";
import { localizeUsageErrors } from "./usage-errors.js";

/** The --home value on a command line (`--home DIR` or `--home=DIR`), before commander reads it. */
function homeOption(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") return undefined;
    if (arg === "--home") return argv[i + 1];
    if (arg.startsWith("--home=")) return arg.slice("--home=".length);
  }
  return undefined;
}

useLanguage(languageFor(resolveHome(homeOption(process.argv.slice(2))), process.argv.includes("--json")));
localizeHelp(program);
localizeUsageErrors();
await program.parseAsync(protectDashIds(process.argv, program));
