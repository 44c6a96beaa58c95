/**
 * The CLI's language for what it prints to people: `parley config set language <tag>` (kept in the
 * profile folder, file `language`), else the shell's (LC_ALL, LC_MESSAGES, LANG). `--json` output is
 * for programs, not people: it is always English and its codes are the contract, so a script reads
 * the same output whatever the language of the person who runs it.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createI18n, isLanguage, type Language, languageFromEnv, listFormat } from "@parley/i18n";

/** The file in the profile folder that holds the chosen language (absent: the shell's). */
export const LANGUAGE_FILE = "language";

let language: Language = languageFromEnv(process.env);
const i18n = createI18n(language);

/** Translates with the current language (keys and variables are checked by the compiler). */
export const tr = i18n.t.bind(i18n);

export const currentLanguage = (): Language => language;

/** Switches what `tr` says, for this run (at once: every catalogue is in memory, nothing loads). */
export function useLanguage(next: Language): void {
  language = next;
  void i18n.changeLanguage(next);
}

/** The language chosen for the profile in `home`, if any. */
export function chosenLanguage(home: string): Language | undefined {
  try {
    const tag = readFileSync(join(home, LANGUAGE_FILE), "utf8").trim();
    return isLanguage(tag) ? tag : undefined;
  } catch {
    return undefined;
  }
}

/** The language for a run: English for --json, else the profile's choice, else the shell's. */
export function languageFor(home: string, json: boolean): Language {
  if (json) return "en";
  return chosenLanguage(home) ?? languageFromEnv(process.env);
}

/** Keeps `choice` for the profile in `home`; "auto" goes back to the shell's language. */
export function saveLanguage(home: string, choice: Language | "auto"): void {
  if (choice === "auto") rmSync(join(home, LANGUAGE_FILE), { force: true });
  else writeFileSync(join(home, LANGUAGE_FILE), `${choice}\n`, { mode: 0o600 });
}

/** "Bob, Carol and you" as the current language lists people. */
export const joinList = (items: readonly string[]): string => listFormat(language, items);
