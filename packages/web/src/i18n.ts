/**
 * The web app's language: chosen in Settings (kept in this browser's localStorage, readable before
 * unlock so the Unlock screen speaks it too), else the browser's languages. `<html lang>` follows
 * it, so screen readers and fonts pick the right Chinese glyphs. Pure helpers translate with `t`;
 * components use react-i18next's `useTranslation`, which re-renders them on a switch.
 */
import { createI18n, isLanguage, type Language, listFormat, matchLanguage } from "@parley/i18n";

const STORAGE_KEY = "parley.language";

function stored(): string | null {
  try {
    return typeof localStorage === "undefined" ? null : localStorage.getItem(STORAGE_KEY);
  } catch {
    return null; // storage blocked: the browser's languages decide
  }
}

function initialLanguage(): Language {
  const chosen = stored();
  if (isLanguage(chosen)) return chosen;
  return matchLanguage(typeof navigator === "undefined" ? [] : (navigator.languages ?? [navigator.language]));
}

export const i18n = createI18n(initialLanguage());
export const t = i18n.t.bind(i18n);

const applyLang = (language: string) => {
  if (typeof document !== "undefined") document.documentElement.lang = language;
};
applyLang(i18n.language);
i18n.on("languageChanged", applyLang);

export const currentLanguage = (): Language => (isLanguage(i18n.language) ? i18n.language : "en");

/** Switches the app's language now and for the next visits of this browser. */
export async function setLanguage(language: Language): Promise<void> {
  try {
    localStorage.setItem(STORAGE_KEY, language);
  } catch {
    // Not kept (storage blocked): the switch still holds until the page closes.
  }
  await i18n.changeLanguage(language);
}

/** "Bob, Carol and Dana" in the current language. */
export const joinList = (items: readonly string[]): string => listFormat(currentLanguage(), items);
